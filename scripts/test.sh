#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the toolchains (scripts/setup.sh), then runs the whole Maven
# build with its tests. `mvn verify` builds the guest modules from source itself (wasi-core runs
# guests/build.sh before its tests, rebuilding only what changed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
mvn -B -ntp verify "$@"
