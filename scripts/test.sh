#!/usr/bin/env bash
# Runs every check and test of Sockeye. Installs what is missing first (scripts/setup.sh).
#
#   ./scripts/test.sh            all steps
#   ./scripts/test.sh STEP...    only these steps (see --list)
#   ./scripts/test.sh --list     list the steps
#
# Every step runs even if an earlier one failed (except where a step needs an earlier
# step's output); a summary follows, and the exit status is non-zero if any step failed.
#
# Adding a step: write a function `step_NAME` below and add NAME to STEPS.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

WASM_TARGET=wasm32-unknown-unknown
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# The wasm client as shipped (profile wasm-release in the root Cargo.toml).
WASM_CLIENT="$TARGET_DIR/$WASM_TARGET/wasm-release/sockeye_wasm.wasm"

STEPS=(
  fmt          # rustfmt, whole workspace
  core_deps    # sockeye-core depends on no runtime / networking crate
  clippy       # clippy, native, all targets, warnings are errors
  clippy_wasm  # clippy for wasm32 (core and wasm client), warnings are errors
  test_native  # cargo test, whole workspace
  bench_smoke  # sockeye-bench --smoke: every scenario against sockeye, socketioxide, Node socket.io
  core_hostile # the core's hostile-input decoders in release, with their time bound
  wasm_build   # core and the wasm client build for wasm32
  wasm_imports # the wasm client imports nothing from module "env"
  test_wasm    # sockeye-core's test-suite on wasm32 (Node; browser tests in Chromium)
  wasm_unit    # the wasm client's own tests (wasm-bindgen-test) in headless Chromium
  wasm_pkg     # the npm package sockeye-client (wasm-client/pkg, tarball) and its size report
  wasm_e2e     # the wasm client in headless Chromium against Node socket.io 4.8
  wasm_sockeye # the wasm client in headless Chromium against the sockeye server (sockeye-demo)
  wasm_tarball # the packed tarball installed in a scratch project, same tests in Chromium
  wasm_compat  # the same scenarios with socket.io-client 4.8 and sockeye-client (tarball): identical traces, Node and Chromium x socket.io 4.8 and sockeye-demo
  wasm_everywhere # the tarball in Node (import, require) vs sockeye-demo and socket.io; esbuild, Vite, classic script, CSP in Chromium
  demo_e2e     # the demo page (www/) in headless Chromium: two users against sockeye-demo
  hostile      # sockeye-demo (debug) against hostile clients (tests/hostile, Node): contained, honest echo, RSS
)

# ---------------------------------------------------------------------------- steps

step_fmt() {
  cargo fmt --all --check
}

step_core_deps() {
  local tree bad
  tree="$(cargo tree -p sockeye-core -e normal --all-features --target all --prefix none)"
  bad="$(grep -E '^(tokio|mio|axum|hyper)([-_][A-Za-z0-9_-]*)? v' <<<"$tree" | sort -u || true)"
  if [ -n "$bad" ]; then
    echo "sockeye-core must stay sans-IO, but it depends on:"
    echo "$bad"
    return 1
  fi
  echo "sockeye-core: no tokio/mio/axum/hyper among its normal dependencies"
}

step_clippy() {
  cargo clippy --workspace --all-targets -- -D warnings
}

step_clippy_wasm() {
  cargo clippy -p sockeye-core -p sockeye-wasm --target "$WASM_TARGET" --all-targets -- -D warnings
  # The shipped build: the wasm client and the core `no_std` (see wasm-client/Cargo.toml).
  cargo clippy -p sockeye-wasm --target "$WASM_TARGET" --features panic-trap,plain-imports -- -D warnings
}

step_test_native() {
  cargo test --workspace
}

step_bench_smoke() {
  # Debug builds are fine for the smoke (it asserts delivery, not speed). The full run:
  # cargo build --release -p sockeye --bin sockeye-demo && cargo build --release -p sockeye-bench
  #   && target/release/sockeye-bench
  # (Two builds: `--bin sockeye-demo` would apply to sockeye-bench too, building none of its bins.)
  cargo build -p sockeye --bin sockeye-demo
  cargo build -p sockeye-bench
  timeout 120 "$TARGET_DIR/debug/sockeye-bench" --smoke \
    --sockeye-bin "$TARGET_DIR/debug/sockeye-demo" \
    --socketioxide-bin "$TARGET_DIR/debug/socketioxide-demo"
}

step_core_hostile() {
  # Release only: the bound (250 ms per 1 MB body of the worst shapes) means nothing in debug.
  cargo test --release -p sockeye-core --test hostile
}

step_wasm_build() {
  cargo build -p sockeye-core --target "$WASM_TARGET" --release
  # sockeye-core alone is an rlib; the cdylib that links it is the wasm client.
  cargo build -p sockeye-wasm --target "$WASM_TARGET" --profile wasm-release --features panic-trap,plain-imports
  ls -l "$WASM_CLIENT"
}

step_wasm_imports() {
  if [ ! -f "$WASM_CLIENT" ]; then
    echo "missing $WASM_CLIENT (did wasm_build fail?)"
    return 1
  fi
  # Node's own WebAssembly API lists the imports: no extra tool to install.
  node -e '
    const fs = require("fs");
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(fs.readFileSync(process.argv[1])));
    const env = imports.filter((i) => i.module === "env");
    if (env.length) {
      console.log("the wasm client imports from module \"env\" (unresolved symbols: a C dependency,");
      console.log("or std APIs that do not exist on wasm32-unknown-unknown):");
      for (const i of env) console.log(`  env.${i.name} (${i.kind})`);
      process.exit(1);
    }
    console.log(`${imports.length} imports, none from "env"`);
  ' "$WASM_CLIENT"
}

step_test_wasm() {
  local chromedriver
  # wasm-bindgen-test-runner prefers geckodriver if it is on PATH; pin chromedriver.
  if [ -z "${CHROMEDRIVER:-}" ] && chromedriver="$(command -v chromedriver)"; then
    export CHROMEDRIVER="$chromedriver"
  fi
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p sockeye-core --target "$WASM_TARGET"
}

step_wasm_unit() {
  local chromedriver
  if [ -z "${CHROMEDRIVER:-}" ] && chromedriver="$(command -v chromedriver)"; then
    export CHROMEDRIVER="$chromedriver"
  fi
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    cargo test -p sockeye-wasm --target "$WASM_TARGET"
}

step_wasm_pkg() {
  # Builds wasm-client/pkg and its npm tarball; prints the size report (gzip -9).
  "$ROOT/wasm-client/build.sh"
}

# The steps that test the built package need wasm_pkg's output.
need_pkg() {
  if [ ! -f "$ROOT/wasm-client/pkg/sockeye_wasm_bg.wasm" ]; then
    echo "missing wasm-client/pkg (did wasm_pkg fail?)"
    return 1
  fi
}

wasm_browser_tests() {
  (cd "$ROOT/wasm-client/e2e" && node --test --test-concurrency=1 client.test.js)
}

step_wasm_e2e() {
  need_pkg || return 1
  wasm_browser_tests
}

step_wasm_sockeye() {
  need_pkg || return 1
  cargo build -p sockeye --bin sockeye-demo
  (cd "$ROOT/wasm-client/e2e" &&
    SOCKEYE_DEMO="$TARGET_DIR/debug/sockeye-demo" node --test --test-concurrency=1 sockeye.test.js)
}

step_wasm_tarball() {
  local tarball scratch
  tarball="$(ls "$ROOT"/wasm-client/pkg/sockeye-client-*.tgz 2>/dev/null | head -n 1)"
  if [ -z "$tarball" ]; then
    echo "missing the sockeye-client tarball (did wasm_pkg fail?)"
    return 1
  fi
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/sockeye-client-scratch.XXXXXX")"
  trap 'rm -rf "$scratch"' RETURN
  (cd "$scratch" && npm init -y >/dev/null && npm install --no-audit --no-fund "$tarball")
  ls "$scratch/node_modules/sockeye-client"
  # The hand-written types, as a TypeScript user sees them (strict; expected errors marked).
  cp "$ROOT/wasm-client/e2e/types/usage.ts" "$scratch/"
  "$ROOT/wasm-client/e2e/node_modules/.bin/tsc" --noEmit --strict --target es2022 \
    --module esnext --moduleResolution bundler --lib es2022,dom "$scratch/usage.ts"
  echo "index.d.ts: usage.ts type-checks"
  # The page imports the bare name `sockeye-client`, resolved into node_modules.
  SOCKEYE_PKG="$scratch" SOCKEYE_MODULE=sockeye-client wasm_browser_tests
}

step_wasm_everywhere() {
  need_pkg || return 1
  cargo build -p sockeye --bin sockeye-demo
  # The packed tarball (wasm-client/pkg/*.tgz) unpacked into scratch apps under
  # wasm-client/everywhere/.work/: Node clients with `import` and `require` against
  # sockeye-demo and Node socket.io 4.8 (each transport); apps built by esbuild and Vite, the
  # classic script and the ES module under a Content-Security-Policy, in headless Chromium.
  (cd "$ROOT/wasm-client/everywhere" &&
    SOCKEYE_DEMO="$TARGET_DIR/debug/sockeye-demo" node --test --test-concurrency=1 node.test.js browser.test.js)
}

step_wasm_compat() {
  need_pkg || return 1
  cargo build -p sockeye --bin sockeye-demo
  # wasm-client/everywhere/compat.test.js: each scenario of compat-scenarios.js run with the
  # official socket.io-client and with the packed sockeye-client, in Node and in headless
  # Chromium, against Node socket.io 4.8 and sockeye-demo; the traces must be deep-equal
  # (known differences, listed in js/README.md, print their diff).
  (cd "$ROOT/wasm-client/everywhere" &&
    SOCKEYE_DEMO="$TARGET_DIR/debug/sockeye-demo" node --test --test-concurrency=1 compat.test.js)
}

step_demo_e2e() {
  need_pkg || return 1
  # The page as the demo serves it: www/ with the wasm client copied to www/pkg/.
  "$ROOT/scripts/build-www.sh"
  cargo build -p sockeye --bin sockeye-demo
  # Screenshots of each user's page go to tests/output/. cluster.test.js starts redis-server
  # and runs python-socketio's Redis manager (python3).
  (cd "$ROOT/tests/e2e-demo" &&
    SOCKEYE_DEMO="$TARGET_DIR/debug/sockeye-demo" REDIS_SERVER="${REDIS_SERVER:-redis-server}" \
      PYTHON="${PYTHON:-python3}" node --test --test-concurrency=1 demo.test.js cluster.test.js)
}

step_hostile() {
  cargo build -p sockeye --bin sockeye-demo
  # Each attack runs while an honest socket.io-client echoes; figures table on stdout.
  (cd "$ROOT/tests/hostile" &&
    SOCKEYE_DEMO="$TARGET_DIR/debug/sockeye-demo" node --test --test-concurrency=1 attacks.test.js)
}

# ---------------------------------------------------------------------------- driver

is_step() {
  local s
  for s in "${STEPS[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${STEPS[@]}"
  exit 0
fi
selected=("${STEPS[@]}")
if [ "$#" -gt 0 ]; then
  for s in "$@"; do
    if ! is_step "$s"; then
      echo "unknown step '$s'; steps: ${STEPS[*]}" >&2
      exit 2
    fi
  done
  selected=("$@")
fi

"$ROOT/scripts/setup.sh"

results=()
failed=0
n_ok=0
n_failed=0
for step in "${selected[@]}"; do
  printf '\n==> %s\n' "$step"
  start=$SECONDS
  # A subshell with errexit, so that any failing command fails the step (and only it).
  # Not inside `if`: bash ignores errexit in a condition, subshells included.
  set +e
  (
    set -euo pipefail
    "step_$step"
  )
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    status=ok
    n_ok=$((n_ok + 1))
  else
    status=FAILED
    failed=1
    n_failed=$((n_failed + 1))
  fi
  results+=("$(printf '%-16s %-6s %4ds' "$step" "$status" $((SECONDS - start)))")
done

printf '\n==> summary\n'
printf '  %s\n' "${results[@]}"
# The last line: the plain "N passed, N failed" that CI reads.
echo "steps: $n_ok passed, $n_failed failed"
[ "$failed" -eq 0 ]
