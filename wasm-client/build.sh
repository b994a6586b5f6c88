#!/usr/bin/env bash
# Builds the npm package `sockeye-client` into wasm-client/pkg/ and packs it:
#   cargo (profile wasm-release) -> wasm-opt -Oz (npm binaryen)
#   -> js/index.js (the socket.io-client API) bundled with the wasm's glue (js/wasm.js,
#   js/host.js: it instantiates the module and provides its imports) by esbuild, once
#   per entry, each with its own wasm loader (js/load/) as ./engine.js; the browser builds
#   minified by esbuild, then again by terser:
#     index.js               ES module for browsers and bundlers, minified (load/web.js)
#     sockeye-client.min.js  classic script, global `io`, minified (load/web.js, load/classic.js)
#     node.cjs               Node, require() (load/node.js, load/node-globals.js: `ws`)
#     node.mjs               Node, import (load/node.mjs, over node.cjs)
#   + sockeye_wasm_bg.wasm, js/index.d.ts, js/README.md, package.json
#   -> npm pack -> wasm-client/pkg/sockeye-client-<version>.tgz
# Prints a size report (gzip -9): what a browser downloads for the ES module entry (the .wasm
# and index.js), and for the classic script (the .wasm and sockeye-client.min.js).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PKG="$HERE/pkg"
VERSION="$(sed -n 's/^version = "\(.*\)"/\1/p' "$HERE/Cargo.toml" | head -n 1)"

# The shipped build: no std (a panic traps), and the wasm's imports plain functions that
# js/wasm.js provides (src/abi.rs): no wasm-bindgen in the module, so no wasm-bindgen pass.
cargo build --profile wasm-release --target wasm32-unknown-unknown -p sockeye-wasm --features panic-trap,plain-imports
rm -rf "$PKG"
mkdir -p "$PKG"
# The JS modules are bundled from a scratch directory: the package ships one bundled module,
# index.js, next to the .wasm.
GLUE="$(mktemp -d "${TMPDIR:-/tmp}/sockeye-glue.XXXXXX")"
trap 'rm -rf "$GLUE"' EXIT
# wasm-opt from npm's binaryen, esbuild and terser, pinned in tools/package.json (scripts/setup.sh
# runs `npm ci` there). Debian's binaryen (108) is too old for what rustc emits.
TOOLS="$HERE/tools/node_modules/.bin"
for tool in wasm-opt esbuild terser; do
  if [ ! -x "$TOOLS/$tool" ]; then
    echo "missing $TOOLS/$tool: run scripts/setup.sh (npm ci --prefix wasm-client/tools)" >&2
    exit 1
  fi
done
WASM_FEATURES=(--enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int
  --enable-bulk-memory --enable-bulk-memory-opt --enable-reference-types --enable-multivalue
  --enable-call-indirect-overlong)
# First, wasm-opt removes the linker's `__data_end` and `__heap_base` exports, which no one
# reads, and shortens the export names (memory, sk_*) to a, b, c, …, printing its renaming
# (shorter names, and -Oz then lays the module out a little better: SIZE_LEVERS.md, row 48).
# esbuild renames the same properties in every bundle from that table, given as its mangle
# cache: js/wasm.js keeps the readable names (`wasm.sk_new`, `wasm.memory`).
"$TOOLS/wasm-opt" "${WASM_FEATURES[@]}" --remove-exports '--pass-arg=remove-exports@__*' \
  --minify-imports-and-exports \
  "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/sockeye_wasm.wasm" -o "$GLUE/renamed.wasm" \
  >"$GLUE/renamed.json"
node -e "
  const fs = require('fs');
  const r = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
  if (r.imports.length) throw new Error('wasm-opt renamed imports: ' + JSON.stringify(r.imports));
  const cache = Object.fromEntries(r.exports);
  for (const name of Object.keys(cache)) {
    if (!/^(sk_\w+|memory)$/.test(name)) throw new Error('unexpected export ' + name);
  }
  fs.writeFileSync(process.argv[2], JSON.stringify(cache));" "$GLUE/renamed.json" "$GLUE/exports.json"
# The features are those of rustc's default wasm32 target (also read from the module's
# target_features section). --converge: -Oz again while it still shrinks the module.
# --low-memory-unused: lets wasm-opt fold `x + C` (C < 1024) into a load's offset, valid if
# addresses 0..1023 are never used — true here: rustc puts the 1 MB stack first, growing down
# from 1 MB to 0, so only a call depth of over 1,047,552 bytes of stack would reach them (our
# code does not recurse; the JSON scanner keeps its nesting in a bitset), and data and the
# heap start at 1 MB. --strip-target-features: that section is for tools; engines ignore it.
# --strip-debug --strip-producers: the name and producers sections (tools' too).
"$TOOLS/wasm-opt" -Oz --converge --low-memory-unused "${WASM_FEATURES[@]}" \
  --strip-target-features --strip-debug --strip-producers \
  "$GLUE/renamed.wasm" -o "$PKG/sockeye_wasm_bg.wasm"
ESBUILD=("$TOOLS/esbuild" --bundle --legal-comments=none --log-level=warning)
# esbuild adds the `_` properties it shortens to the cache it is given: each build gets its
# own copy of the export names (the minified builds share theirs).
exports() {
  cp "$GLUE/exports.json" "$GLUE/$1.json"
  echo "--mangle-cache=$GLUE/$1.json"
}
# The optimised module must still instantiate with its glue (js/wasm.js and js/host.js, the
# export names renamed as in the bundles).
cp "$HERE/js/wasm.js" "$HERE/js/host.js" "$GLUE/"
"${ESBUILD[@]}" "$GLUE/wasm.js" --format=esm --mangle-props='^(sk_|memory$)' "$(exports smoke)" \
  --outfile="$GLUE/smoke.mjs"
(cd "$GLUE" && node --input-type=module -e "
  import fs from 'node:fs';
  import { initSync, Manager } from './smoke.mjs';
  initSync({ module: fs.readFileSync(process.argv[1]) });
  new Manager(new Float64Array(0), 1).drain();" "$PKG/sockeye_wasm_bg.wasm")
# js/index.js (the socket.io-client API) with the glue it imports, bundled once per entry with
# that entry's wasm loader as ./engine.js. No top-level await in any of them.
cp "$HERE/js/index.js" "$HERE/js/load/classic.js" "$GLUE/"
# The minified builds also shorten the internal `_` properties (index.js's and the loader's
# state, wasm.js's). Kept: `_placeholder` (the
# protocol's binary placeholder), `__proto__`, and the names of the wasm's imports and exports,
# read from the module (the glue and the wasm find each other by them; the exports' names
# are already short, and `sk_*`/`memory` in the JS renamed to them from the cache).
WASM_NAMES="$(node -e "
  const m = new WebAssembly.Module(require('fs').readFileSync(process.argv[1]));
  const all = [...WebAssembly.Module.exports(m), ...WebAssembly.Module.imports(m)];
  console.log(all.map((e) => e.name).join('|'));" "$PKG/sockeye_wasm_bg.wasm")"
MINIFY=(--minify --mangle-props='^(_|sk_|memory$)' --reserve-props="^(_placeholder|__proto__|$WASM_NAMES)\$"
  "$(exports minified)")
cp "$HERE/js/load/web.js" "$GLUE/engine.js"
# Browsers and bundlers: one minified ES module (ES2020) that fetches sockeye_wasm_bg.wasm
# from its own URL (or the running classic script's).
# esbuild bundles, minifies and shortens the `_` properties; terser then minifies its output
# again (more compression passes, function declarations hoisted: 3 passes was the smallest):
# smaller than either alone (SIZE_LEVERS.md, row 40).
# terser takes its input first, then its options.
terser() { "$TOOLS/terser" "$1" --ecma 2020 --compress passes=3,hoist_funs=true --mangle "${@:2}"; }
"${ESBUILD[@]}" "$GLUE/index.js" --format=esm --target=es2020 "${MINIFY[@]}" --outfile="$GLUE/index.min.js"
terser "$GLUE/index.min.js" --module --output "$PKG/index.js"
# <script src>: the same as a classic script (an IIFE) that sets the global `io`;
# import.meta.url does not exist there: document.currentScript says where the .wasm is.
"${ESBUILD[@]}" "$GLUE/classic.js" --format=iife --target=es2020 "${MINIFY[@]}" \
  --define:import.meta.url=undefined --outfile="$GLUE/classic.min.js"
terser "$GLUE/classic.min.js" --output "$PKG/sockeye-client.min.js"
# Node: CommonJS (require), the .wasm read from disk at load; node.mjs re-exports it for import.
cp "$HERE/js/load/node.js" "$GLUE/engine.js"
"${ESBUILD[@]}" "$GLUE/index.js" --format=cjs --platform=node --target=node18 \
  --inject:"$HERE/js/load/node-globals.js" --external:ws --mangle-props='^(sk_|memory$)' \
  "$(exports node)" --outfile="$PKG/node.cjs"
cp "$HERE/js/load/node.mjs" "$PKG/node.mjs"
cp "$HERE/js/index.d.ts" "$HERE/js/README.md" "$PKG/"
sed "s/@VERSION@/$VERSION/" "$HERE/js/package.json" >"$PKG/package.json"
(cd "$PKG" && npm pack --silent >/dev/null)
ls "$PKG"/sockeye-client-*.tgz

# Size report: what a browser downloads, gzip -9. ES module entry: the .wasm and index.js
# (every JS file it loads); classic script: the .wasm and sockeye-client.min.js.
gz() { gzip -9c "$1" | wc -c; }
wasm_gz=$(gz "$PKG/sockeye_wasm_bg.wasm")
js_gz=$(gz "$PKG/index.js")
classic_gz=$(gz "$PKG/sockeye-client.min.js")
total=$((wasm_gz + js_gz))
classic_total=$((wasm_gz + classic_gz))
printf 'size: sockeye_wasm_bg.wasm %d B gzip, index.js %d B gzip, total %d B gzip (%d.%d KB; budget 25 KB)\n' \
  "$wasm_gz" "$js_gz" "$total" $((total / 1024)) $(((total % 1024) * 10 / 1024))
printf 'size (classic script): sockeye_wasm_bg.wasm %d B gzip, sockeye-client.min.js %d B gzip, total %d B gzip (%d.%d KB)\n' \
  "$wasm_gz" "$classic_gz" "$classic_total" $((classic_total / 1024)) $(((classic_total % 1024) * 10 / 1024))
# The budget (issue 14): 25 KB for everything a browser downloads, either entry.
for t in "$total" "$classic_total"; do
  if [ "$t" -gt $((25 * 1024)) ]; then
    echo "over the 25 KB budget ($t bytes): see SIZE_LEVERS.md" >&2
    exit 1
  fi
done
