#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the toolchain (scripts/setup.sh), builds the guest modules
# from source (guests/build.sh), then runs the whole Maven build with its tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
guests/build.sh
mvn -B -ntp verify "$@"
