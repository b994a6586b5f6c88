#!/usr/bin/env bash
# Puts the built wasm client (wasm-client/pkg, from wasm-client/build.sh) under www/pkg/,
# where the demo page imports it (`./pkg/index.js`). www/pkg/ is a build artifact (gitignored).
#
#   ./scripts/build-www.sh           copy the existing wasm-client/pkg
#   ./scripts/build-www.sh --wasm    build wasm-client/pkg first
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="$ROOT/wasm-client/pkg"
OUT="$ROOT/www/pkg"

if [ "${1:-}" = "--wasm" ]; then
  "$ROOT/wasm-client/build.sh"
fi
if [ ! -f "$PKG/sockeye_wasm_bg.wasm" ] || [ ! -f "$PKG/index.js" ]; then
  echo "missing wasm-client/pkg: run wasm-client/build.sh (or $0 --wasm)" >&2
  exit 1
fi
rm -rf "$OUT"
mkdir -p "$OUT"
# What a browser loads: the module (the API with the wasm-bindgen glue bundled in), the .wasm.
cp "$PKG/index.js" "$PKG/sockeye_wasm_bg.wasm" "$OUT/"
echo "www/pkg: $(ls "$OUT" | tr '\n' ' ')"
