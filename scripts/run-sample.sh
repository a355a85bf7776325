#!/usr/bin/env bash
# Runs the sample app on a fresh machine: installs the toolchains, builds the guests (guests/build.sh, which
# also deploys the sample's modules into sample-app/modules/), builds the project without its tests, and starts
# the app on http://localhost:8080 (Ctrl-C stops it).
# Spring arguments pass through: scripts/run-sample.sh --server.port=9090
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
guests/build.sh
mvn -B -ntp -q install -DskipTests
cd sample-app
exec mvn -B -ntp -q spring-boot:run ${*:+-Dspring-boot.run.arguments="$*"}
