#!/usr/bin/env bash
# Builds the npm package `sockeye-client` into wasm-client/pkg/ and packs it:
#   cargo (profile wasm-release) -> wasm-bindgen --target web -> wasm-opt -Oz (npm binaryen)
#   + js/index.js (the socket.io-client API), js/index.d.ts, js/README.md, package.json
#   -> npm pack -> wasm-client/pkg/sockeye-client-<version>.tgz
# Prints a size report (gzip -9 of the .wasm and the JS glue).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PKG="$HERE/pkg"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$HERE/Cargo.toml" | head -n 1)"

cargo build --profile wasm-release --target wasm32-unknown-unknown -p sockeye-wasm
rm -rf "$PKG"
mkdir -p "$PKG"
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$PKG" \
  "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/sockeye_wasm.wasm"
# wasm-opt from npm's binaryen, pinned in tools/package.json (scripts/setup.sh runs `npm ci`
# there). Debian's binaryen (108) is too old for what rustc emits. The features are those of
# rustc's default wasm32 target (also read from the module's target_features section).
WASM_OPT="$HERE/tools/node_modules/.bin/wasm-opt"
if [ ! -x "$WASM_OPT" ]; then
  echo "missing $WASM_OPT: run scripts/setup.sh (npm ci --prefix wasm-client/tools)" >&2
  exit 1
fi
"$WASM_OPT" -Oz --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-bulk-memory-opt --enable-reference-types --enable-multivalue \
  --enable-call-indirect-overlong \
  "$PKG/sockeye_wasm_bg.wasm" -o "$PKG/sockeye_wasm_bg.wasm"
# The optimised module must still instantiate with its glue.
(cd "$PKG" && node --input-type=module -e "
  import fs from 'node:fs';
  import { initSync, version } from './sockeye_wasm.js';
  initSync({ module: fs.readFileSync('sockeye_wasm_bg.wasm') });
  version();")
cp "$HERE/js/index.js" "$HERE/js/index.d.ts" "$HERE/js/README.md" "$PKG/"
sed "s/@VERSION@/$VERSION/" "$HERE/js/package.json" >"$PKG/package.json"
(cd "$PKG" && npm pack --silent >/dev/null)
ls "$PKG"/sockeye-client-*.tgz

# Size report: what a browser downloads (the .wasm and every JS file), gzip -9.
wasm_gz=$(gzip -9c "$PKG/sockeye_wasm_bg.wasm" | wc -c)
js_gz=$(find "$PKG" -name '*.js' -print0 | sort -z | xargs -0 cat | gzip -9c | wc -c)
total=$((wasm_gz + js_gz))
printf 'size: sockeye_wasm_bg.wasm %d B gzip, JS glue %d B gzip, total %d B gzip (%d.%d KB; budget 80 KB, goal 25 KB)\n' \
  "$wasm_gz" "$js_gz" "$total" $((total / 1024)) $(((total % 1024) * 10 / 1024))
if [ "$total" -gt $((80 * 1024)) ]; then
  echo "over the 80 KB budget" >&2
  exit 1
fi
