#!/usr/bin/env bash
# Installs what Sockeye's demo and tests need, skipping whatever is already present.
# Idempotent; takes well under a second when everything is installed.
#
# Used by ./scripts/test.sh and ./scripts/demo.sh; safe to run by hand.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# Debian packages, one per line. Add a package by adding a line.
APT_PACKAGES=(
  chromium        # headless browser tests (wasm client)
  chromium-driver # chromedriver, for wasm-bindgen-test-runner
  redis-server    # Redis adapter tests
  rabbitmq-server # AMQP adapter tests (tests/src/rabbitmq.rs runs it, as user rabbitmq)
  nginx           # the load-balancer test (two nodes behind ip_hash)
)

LOG="$(mktemp "${TMPDIR:-/tmp}/sockeye-setup.XXXXXX.log")"
trap 'rm -f "$LOG"' EXIT

say() { printf 'setup: %s\n' "$*"; }

# run DESCRIPTION CMD...: runs CMD quietly; on failure shows the end of its output.
run() {
  local what="$1"
  shift
  say "$what"
  if ! "$@" >"$LOG" 2>&1; then
    tail -n 40 "$LOG" >&2
    say "FAILED: $what ($*)" >&2
    exit 1
  fi
}

# as_root CMD...: runs CMD as root (directly, or through sudo).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    say "need root for: $*" >&2
    return 1
  fi
}

# The wasm-bindgen crate version the workspace is locked to (Cargo.lock, else the `=x.y.z`
# pin in the root Cargo.toml). wasm-bindgen-cli must match it exactly.
wasm_bindgen_version() {
  local v=""
  if [ -f "$ROOT/Cargo.lock" ]; then
    v="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/^version = "|"$/, ""); print; exit }' \
      "$ROOT/Cargo.lock")"
  fi
  if [ -z "$v" ]; then
    v="$(sed -n 's/^wasm-bindgen *= *"=\{0,1\}\([0-9][^"]*\)".*/\1/p' "$ROOT/Cargo.toml" | head -n 1)"
  fi
  if [ -z "$v" ]; then
    say "cannot find the wasm-bindgen version in Cargo.lock or Cargo.toml" >&2
    exit 1
  fi
  printf '%s\n' "$v"
}

setup_wasm_target() {
  # Checking the sysroot is much faster than `rustup target list`.
  if [ ! -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]; then
    run "installing rust target wasm32-unknown-unknown" \
      rustup target add wasm32-unknown-unknown
  fi
}

setup_wasm_bindgen_cli() {
  local want have=""
  want="$(wasm_bindgen_version)"
  if command -v wasm-bindgen >/dev/null 2>&1; then
    have="$(wasm-bindgen --version | awk '{ print $2 }')"
  fi
  if [ "$have" != "$want" ] || ! command -v wasm-bindgen-test-runner >/dev/null 2>&1; then
    # Not --locked: with it, this version fails to build here.
    run "installing wasm-bindgen-cli $want${have:+ (found $have)}, about 3 min" \
      cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

setup_apt_packages() {
  local missing=() pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    run "apt-get update" as_root apt-get update -q
    run "installing ${missing[*]}" \
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
}

# The official clients the interop tests run against (tests/node, tests/python).
setup_node_client() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    run "installing nodejs and npm" \
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
  fi
  if [ ! -f "$ROOT/tests/node/node_modules/socket.io-client/package.json" ] ||
    [ "$ROOT/tests/node/package-lock.json" -nt "$ROOT/tests/node/node_modules/.package-lock.json" ]; then
    run "installing socket.io-client (npm ci in tests/node)" \
      npm ci --prefix "$ROOT/tests/node" --no-audit --no-fund
  fi
}

# The wasm client's browser tests (wasm-client/e2e): socket.io 4.8 server, playwright-core.
setup_wasm_e2e() {
  local dir="$ROOT/wasm-client/e2e"
  if [ ! -f "$dir/node_modules/playwright-core/package.json" ] ||
    [ ! -f "$dir/node_modules/socket.io/package.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    run "installing socket.io and playwright-core (npm ci in wasm-client/e2e)" \
      npm ci --prefix "$dir" --no-audit --no-fund
  fi
}

# The wasm client everywhere (wasm-client/everywhere): esbuild and Vite as an app uses them,
# and `ws` (the package's Node WebSocket). Its tests also use wasm-client/e2e's packages.
setup_wasm_everywhere() {
  local dir="$ROOT/wasm-client/everywhere"
  if [ ! -f "$dir/node_modules/vite/package.json" ] ||
    [ ! -f "$dir/node_modules/ws/package.json" ] ||
    [ ! -f "$dir/node_modules/esbuild/package.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    run "installing esbuild, vite and ws (npm ci in wasm-client/everywhere)" \
      npm ci --prefix "$dir" --no-audit --no-fund
  fi
}

# The wasm client's build tools (wasm-client/tools): wasm-opt from npm's binaryen, esbuild and
# terser, pinned.
setup_wasm_tools() {
  local dir="$ROOT/wasm-client/tools"
  if [ ! -f "$dir/node_modules/binaryen/package.json" ] ||
    [ ! -f "$dir/node_modules/terser/package.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    run "installing wasm-opt, esbuild and terser (npm ci in wasm-client/tools)" \
      npm ci --prefix "$dir" --no-audit --no-fund
  fi
}

# The demo page's browser tests (tests/e2e-demo): playwright-core.
setup_demo_e2e() {
  local dir="$ROOT/tests/e2e-demo"
  if [ ! -f "$dir/node_modules/playwright-core/package.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    run "installing playwright-core (npm ci in tests/e2e-demo)" \
      npm ci --prefix "$dir" --no-audit --no-fund
  fi
}

# The benchmark's Node peer (tests/bench/node): socket.io 4.8, its Redis adapter and the
# redis client that adapter is given.
setup_bench() {
  local dir="$ROOT/tests/bench/node"
  if [ ! -f "$dir/node_modules/socket.io/package.json" ] ||
    [ ! -f "$dir/node_modules/@socket.io/redis-adapter/package.json" ] ||
    [ ! -f "$dir/node_modules/redis/package.json" ] ||
    [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    run "installing socket.io, @socket.io/redis-adapter, redis (npm ci in tests/bench/node)" \
      npm ci --prefix "$dir" --no-audit --no-fund
  fi
}

setup_python_client() {
  # Package metadata only: importing aiohttp and socketio takes seconds.
  if ! python3 -c 'import importlib.metadata as m
assert m.version("python-socketio").startswith("5.")
assert int(m.version("python-socketio").split(".")[1]) >= 14
m.version("aiohttp")
m.version("redis")
m.version("kombu")
m.version("aio-pika")' \
    >/dev/null 2>&1; then
    # kombu and aio-pika: python-socketio's AMQP managers (KombuManager, AsyncAioPikaManager).
    run "installing python-socketio[client] 5.x, redis, kombu and aio-pika" \
      python3 -m pip install --quiet 'python-socketio[client]>=5.14,<6' aiohttp 'redis>=5' \
      kombu aio-pika
  fi
}

setup_wasm_target
setup_apt_packages
setup_node_client
setup_wasm_e2e
setup_wasm_everywhere
setup_wasm_tools
setup_demo_e2e
setup_bench
setup_python_client
setup_wasm_bindgen_cli
