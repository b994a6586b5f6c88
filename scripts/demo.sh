#!/usr/bin/env bash
# Builds and runs the Sockeye demo server (installs what is missing first).
#
#   ./scripts/demo.sh [--port N] [--host ADDR] [--adapter memory|redis://…|amqp://…] [--static DIR]
#
# Stop it with Ctrl-C.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

"$ROOT/scripts/setup.sh"

# The address the demo will listen on, from the same flags (for the hint only).
host=127.0.0.1
port=3000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --host) host="${args[i + 1]:-$host}" ;;
    --host=*) host="${args[i]#--host=}" ;;
    --port) port="${args[i + 1]:-$port}" ;;
    --port=*) port="${args[i]#--port=}" ;;
  esac
done
case "$host" in *:*) host="[$host]" ;; esac

# The demo page (www/) loads the wasm client from www/pkg/, a build artifact.
"$ROOT/scripts/build-www.sh" --wasm
cargo build --release -p sockeye --bin sockeye-demo
echo "Open http://$host:$port"
exec cargo run --quiet --release -p sockeye --bin sockeye-demo -- "$@"
