#!/bin/sh
# Builds guest.wat into $1 (the file GuestBuilds deploys).
set -e
wat2wasm -o "$1" guest.wat
