#!/usr/bin/env bash
# Builds the npm package `sockeye-client` into wasm-client/pkg/ and packs it:
#   cargo (profile wasm-release) -> wasm-bindgen --target web -> wasm-opt -Oz (npm binaryen)
#   -> js/index.js (the socket.io-client API) bundled with wasm-bindgen's glue and minified
#   (esbuild) into index.js; + sockeye_wasm_bg.wasm, js/index.d.ts, js/README.md, package.json
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
# wasm-bindgen's output (the glue module and its snippets) goes to a scratch directory: the
# package ships one bundled module, index.js, next to the .wasm.
GLUE="$(mktemp -d "${TMPDIR:-/tmp}/sockeye-glue.XXXXXX")"
trap 'rm -rf "$GLUE"' EXIT
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$GLUE" \
  "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/sockeye_wasm.wasm"
# wasm-opt from npm's binaryen and esbuild, pinned in tools/package.json (scripts/setup.sh
# runs `npm ci` there). Debian's binaryen (108) is too old for what rustc emits.
TOOLS="$HERE/tools/node_modules/.bin"
for tool in wasm-opt esbuild; do
  if [ ! -x "$TOOLS/$tool" ]; then
    echo "missing $TOOLS/$tool: run scripts/setup.sh (npm ci --prefix wasm-client/tools)" >&2
    exit 1
  fi
done
# The features are those of rustc's default wasm32 target (also read from the module's
# target_features section).
"$TOOLS/wasm-opt" -Oz --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-bulk-memory-opt --enable-reference-types --enable-multivalue \
  --enable-call-indirect-overlong \
  "$GLUE/sockeye_wasm_bg.wasm" -o "$PKG/sockeye_wasm_bg.wasm"
# The optimised module must still instantiate with its glue.
(cd "$GLUE" && node --input-type=module -e "
  import fs from 'node:fs';
  import { initSync, version } from './sockeye_wasm.js';
  initSync({ module: fs.readFileSync(process.argv[1]) });
  version();" "$PKG/sockeye_wasm_bg.wasm")
# js/index.js (the socket.io-client API) with the glue it imports, bundled and minified into
# one ES module (ES2022: top-level await). It loads sockeye_wasm_bg.wasm from its own URL.
cp "$HERE/js/index.js" "$GLUE/index.js"
"$TOOLS/esbuild" "$GLUE/index.js" --bundle --format=esm --target=es2022 --minify \
  --legal-comments=none --log-level=warning --outfile="$PKG/index.js"
cp "$HERE/js/index.d.ts" "$HERE/js/README.md" "$PKG/"
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
