#!/usr/bin/env bash
# Builds every guest module from its sources:
#   guests/c/*.c    -> guests/build/<name>.wasm   (clang, wasm32-wasi reactor, with tinywasm.h)
#   guests/wat/*.wat -> guests/build/<name>.wasm  (wat2wasm)
#   guests/assemblyscript/assembly/shout.ts -> guests/build/shout.wasm  (AssemblyScript, from npm)
# and copies the sample app's modules (guests/sample.list) into sample-app/modules/ by atomic rename, so a
# running sample app hot-swaps them.
#
# Usage: guests/build.sh [--install]
#   --install  install missing toolchain packages from Debian (clang lld wasi-libc libclang-rt-dev-wasm32 wabt)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="$here/build"

need=()
command -v clang >/dev/null || need+=(clang)
command -v wasm-ld >/dev/null || command -v wasm-ld-14 >/dev/null || need+=(lld)
[ -f /usr/lib/wasm32-wasi/libc.a ] || need+=(wasi-libc)
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || need+=(libclang-rt-dev-wasm32)
command -v wat2wasm >/dev/null || need+=(wabt)
if [ ${#need[@]} -gt 0 ]; then
  if [ "${1:-}" = "--install" ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "guests/build.sh: missing ${need[*]}; run: guests/build.sh --install" >&2
    exit 1
  fi
fi

mkdir -p "$out"
CFLAGS=(--target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Werror -I "$here/c")
for src in "$here"/c/*.c; do
  name="$(basename "$src" .c)"
  clang "${CFLAGS[@]}" -o "$out/$name.wasm.tmp" "$src"
  mv -f "$out/$name.wasm.tmp" "$out/$name.wasm"
done
# A second version of the chat guest, for the tests that swap it live.
clang "${CFLAGS[@]}" -DSTYLE='"[v2] "' -o "$out/chat-v2.wasm.tmp" "$here/c/chat.c"
mv -f "$out/chat-v2.wasm.tmp" "$out/chat-v2.wasm"
for src in "$here"/wat/*.wat; do
  [ -e "$src" ] || continue
  name="$(basename "$src" .wat)"
  wat2wasm -o "$out/$name.wasm.tmp" "$src"
  mv -f "$out/$name.wasm.tmp" "$out/$name.wasm"
done

# AssemblyScript guests (compiler from the npm registry, pinned by package-lock.json).
if command -v npm >/dev/null; then
  (cd "$here/assemblyscript" && { [ -d node_modules/assemblyscript ] || npm ci --no-audit --no-fund --loglevel=error; } \
    && npm run --silent build)
else
  echo "guests/build.sh: npm not found, skipping the AssemblyScript guests" >&2
fi

# The sample app's modules: copy only changed ones, atomically, so a running app swaps each once.
if [ -f "$here/sample.list" ]; then
  dest="$root/sample-app/modules"
  mkdir -p "$dest"
  while read -r name; do
    [ -n "$name" ] && [ "${name#\#}" = "$name" ] || continue
    if [ ! -f "$out/$name.wasm" ]; then
      echo "guests/build.sh: $name.wasm was not built; the sample runs without it" >&2
    elif ! cmp -s "$out/$name.wasm" "$dest/$name.wasm"; then
      cp "$out/$name.wasm" "$dest/.$name.wasm.tmp"
      mv -f "$dest/.$name.wasm.tmp" "$dest/$name.wasm"
      echo "updated sample-app/modules/$name.wasm"
    fi
  done < "$here/sample.list"
fi
echo "guests built in ${out#$root/}: $(cd "$out" && ls *.wasm | tr '\n' ' ')"
