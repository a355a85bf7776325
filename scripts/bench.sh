#!/usr/bin/env bash
# Runs the benchmark harness: scripts/bench.sh [delivery|swap|deploy|fanout|http|cluster|connections|all]
# Builds the guests and the project first (tests skipped); prints each figure next to its same-run reference.
# "connections" is not part of "all": it starts the server in a second JVM and opens up to 10,000 WebSocket
# clients per step (BENCH_CONNECTIONS=1000,2000,5000,10000 by default; e.g. BENCH_CONNECTIONS=500 for a smoke test).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " == *" connections "* ]]; then
  # each client is one file descriptor in the harness JVM and one in the server JVM (which inherits this limit)
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  echo "open files: $(ulimit -n); ephemeral ports: $(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null | tr '\t' -)"
fi
guests/build.sh
mvn -B -ntp -q install -DskipTests -pl benchmarks -am
mvn -B -ntp -q -pl benchmarks exec:java -Dexec.args="${*:-all}"
