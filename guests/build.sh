#!/usr/bin/env bash
# Builds every guest module from its sources into guests/build/:
#   guests/c/*.c      -> <name>.wasm  (clang, wasm32-wasi reactor, with tinywasm.h)
#   guests/wat/*.wat  -> <name>.wasm  (wat2wasm)
#   guests/rust/<crate>/ (each cdylib crate of that Cargo workspace) -> <crate>.wasm
#                        (Debian's rustc and cargo, target wasm32-wasi, offline)
#   guests/assemblyscript/assembly/{shout,hello}.ts -> shout.wasm, hello.wasm  (AssemblyScript, from npm)
# and copies the sample app's modules (guests/sample.list) into sample-app/modules/ by atomic rename, so a
# running sample app hot-swaps them.
#
# A guest whose inputs (sources, flags, compiler) have not changed since its last build is not rebuilt, so a
# second run, such as the one `mvn verify` makes, takes well under a second. Runs of this script in one clone
# take turns (a lock in guests/build/).
#
# Usage: guests/build.sh [--install] [--force]
#   --install  install missing toolchain packages from Debian first (as scripts/setup.sh does)
#   --force    rebuild every guest
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
out="$here/build"
install=false force=false
for arg in "$@"; do
  case "$arg" in
    --install) install=true ;;
    --force) force=true ;;
    *) echo "usage: guests/build.sh [--install] [--force]" >&2; exit 2 ;;
  esac
done

# Debian's Rust, called by path: a rustup shim earlier on PATH would pick a toolchain without the wasm target.
RUSTC=/usr/bin/rustc
CARGO=/usr/bin/cargo

need=()
command -v clang >/dev/null || need+=(clang)
command -v wasm-ld >/dev/null || command -v wasm-ld-14 >/dev/null || need+=(lld)
[ -f /usr/lib/wasm32-wasi/libc.a ] || need+=(wasi-libc)
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || need+=(libclang-rt-dev-wasm32)
command -v wat2wasm >/dev/null || need+=(wabt)
[ -x "$RUSTC" ] || need+=(rustc)
[ -x "$CARGO" ] || need+=(cargo)
ls /usr/lib/rustlib/wasm32-wasi/lib/libstd-*.rlib >/dev/null 2>&1 || need+=(libstd-rust-dev-wasm32)
command -v npm >/dev/null || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  if $install; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "guests/build.sh: cannot build the guest modules, missing Debian packages: ${need[*]}; install them with scripts/setup.sh (or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

mkdir -p "$out/.stamps"
exec 9>"$out/.lock"
flock 9
started=$(date +%s%N)
built=() fresh=0

# The identity of a tool (resolved path, size, time): part of each guest's key, so a new compiler rebuilds.
tool() { stat -c '%n %s %Y' "$(readlink -f "$(command -v "$1")")"; }

# up_to_date NAME KEY: whether NAME's outputs were last built from inputs with this KEY (see `key`).
up_to_date() {
  ! $force && [ -f "$out/$1.wasm" ] && [ "$(cat "$out/.stamps/$1" 2>/dev/null)" = "$2" ]
}
# key WHAT FILE...: a digest of how (WHAT: flags, tools) and from what (the files' contents) a guest is built.
key() {
  local what="$1"; shift
  { printf '%s\n' "$what"; for f in "$@"; do printf '%s\n' "$f"; cat "$f"; done; } | sha256sum | cut -d' ' -f1
}
# done_building NAME KEY: records the key once NAME was built.
done_building() { printf '%s' "$2" > "$out/.stamps/$1"; built+=("$1"); }

# C guests, and a second version of the chat guest for the tests that swap it live.
CFLAGS=(--target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Werror -I "$here/c")
clang_id="$(tool clang)"
c_guest() { # NAME SOURCE [EXTRA FLAGS...]
  local name="$1" src="$2"; shift 2
  local k; k="$(key "$clang_id ${CFLAGS[*]} $*" "$src" "$here/c/tinywasm.h")"
  if up_to_date "$name" "$k"; then fresh=$((fresh + 1)); return; fi
  clang "${CFLAGS[@]}" "$@" -o "$out/$name.wasm.tmp" "$src"
  mv -f "$out/$name.wasm.tmp" "$out/$name.wasm"
  done_building "$name" "$k"
}
for src in "$here"/c/*.c; do
  c_guest "$(basename "$src" .c)" "$src"
done
c_guest chat-v2 "$here/c/chat.c" -DSTYLE='"[v2] "'
c_guest http_users-v2 "$here/c/http_users.c" -DVERSION='"users v2"'

wat_id="$(tool wat2wasm)"
for src in "$here"/wat/*.wat; do
  [ -e "$src" ] || continue
  name="$(basename "$src" .wat)"
  k="$(key "$wat_id" "$src")"
  if up_to_date "$name" "$k"; then fresh=$((fresh + 1)); continue; fi
  wat2wasm -o "$out/$name.wasm.tmp" "$src"
  mv -f "$out/$name.wasm.tmp" "$out/$name.wasm"
  done_building "$name" "$k"
done

# Rust guests: one Cargo workspace; cargo rebuilds what changed, but is not even started when nothing did.
rust="$here/rust"
rust_guests=()
for manifest in "$rust"/*/Cargo.toml; do
  grep -q 'crate-type *= *\["cdylib"\]' "$manifest" && rust_guests+=("$(basename "$(dirname "$manifest")")")
done
if [ ${#rust_guests[@]} -gt 0 ]; then
  mapfile -t rust_inputs < <(cd "$rust" && find . -path ./target -prune -o -type f -print | LC_ALL=C sort)
  k="$(cd "$rust" && key "$(stat -L -c '%n %s %Y' "$RUSTC" "$CARGO")" "${rust_inputs[@]}")"
  all_fresh=true
  for name in "${rust_guests[@]}"; do up_to_date "$name" "$k" || all_fresh=false; done
  if $all_fresh; then
    fresh=$((fresh + ${#rust_guests[@]}))
  else
    (cd "$rust" && PATH="/usr/bin:$PATH" RUSTC="$RUSTC" "$CARGO" build --release --offline --quiet)
    for name in "${rust_guests[@]}"; do
      cp "$rust/target/wasm32-wasi/release/${name//-/_}.wasm" "$out/$name.wasm.tmp"
      mv -f "$out/$name.wasm.tmp" "$out/$name.wasm"
      done_building "$name" "$k"
    done
  fi
fi

# AssemblyScript guests (compiler from the npm registry, pinned by package-lock.json).
as="$here/assemblyscript"
k="$(cd "$as" && key "$(tool node)" package.json package-lock.json assembly/*.ts)"
if up_to_date shout "$k" && up_to_date hello "$k"; then
  fresh=$((fresh + 2))
else
  (cd "$as" && { [ -d node_modules/assemblyscript ] || npm ci --no-audit --no-fund --loglevel=error; } \
    && npm run --silent build)
  done_building shout "$k"
  done_building hello "$k"
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

took=$(( ($(date +%s%N) - started) / 1000000 ))
if [ ${#built[@]} -gt 0 ]; then
  echo "guests: built ${built[*]}; $fresh up to date (${took} ms, in ${out#$root/})"
else
  echo "guests: all $fresh up to date (${took} ms, in ${out#$root/})"
fi
