#!/usr/bin/env bash
# Installs what building and testing need beyond Java 17 and Maven, from Debian's packages, if missing (quiet
# when everything is there):
# - the guest toolchains: clang, lld, wasi-libc, libclang-rt-dev-wasm32 (C), wabt (WAT), rustc, cargo and
#   libstd-rust-dev-wasm32 (Rust), Node.js/npm for the AssemblyScript guest (if absent);
# - chromium and chromium-driver for the browser test;
# - redis-server for the cluster tests (they start their own instance on a free port; the packaged service is
#   not used).
set -euo pipefail
pkgs=(clang lld wasi-libc libclang-rt-dev-wasm32 wabt rustc cargo libstd-rust-dev-wasm32 chromium chromium-driver
  redis-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm build the AssemblyScript guests; most machines have them already.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
