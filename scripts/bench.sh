#!/usr/bin/env bash
# Runs the benchmark harness: scripts/bench.sh [delivery|swap|deploy|fanout|http|all]
# Builds the guests and the project first (tests skipped); prints each figure next to its same-run reference.
set -euo pipefail
cd "$(dirname "$0")/.."
guests/build.sh
mvn -B -ntp -q install -DskipTests -pl benchmarks -am
mvn -B -ntp -q -pl benchmarks exec:java -Dexec.args="${*:-all}"
