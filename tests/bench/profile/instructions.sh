#!/usr/bin/env bash
# User-space instructions per delivered message (fan-out), per ack (echo), per connect
# (connect, both transports), per 64 KiB echo (binary) or per delivery over Redis (redis: two
# nodes and a redis-server, both nodes summed), for sockeye-demo
# and socketioxide-demo, counted by valgrind's callgrind: repeatable on a busy machine, where
# CPU time is not. Each server runs the scenario twice (a short and a long run) under
# callgrind; the difference of the two counts, function by function, divided by the
# difference in deliveries, leaves out start-up and connection set-up. Kernel time (system
# calls) is not counted: compare with sockeye-bench's CPU figures for the whole cost.
#
#   tests/bench/profile/instructions.sh [fanout|fanout-all|echo|connect|binary|redis] [TOP]
#
# Needs release builds (cargo build --release -p sockeye --bin sockeye-demo &&
# cargo build --release -p sockeye-bench) and valgrind. About 2 minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
SCENARIO="${1:-fanout}"
TOP="${2:-12}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sockeye-cg.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
for s in sockeye socketioxide; do
  cat >"$WORK/$s.sh" <<WRAP
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=$WORK/\$CG_TAG-$s.%p.cg "$BIN/$s-demo" "\$@"
WRAP
  chmod +x "$WORK/$s.sh"
done
run() { # tag, size
  local args
  case "$SCENARIO" in
    echo) args=(--scenarios echo --echo-clients 20 --echo-secs "$2") ;;
    fanout) args=(--scenarios fanout --fanout-clients 200 --fanout-messages "$2" --fanout-rate 10) ;;
    fanout-all) args=(--scenarios fanout-all --fanout-all-clients 200 \
      --fanout-all-deliveries "$((200 * $2))" --fanout-all-delivery-rate 2000) ;;
    connect) args=(--scenarios connect --connects "$2") ;;
    binary) args=(--scenarios binary --binary-clients 10 --binary-echoes "$2") ;;
    redis) args=(--scenarios redis --redis-clients 200 --redis-messages "$2") ;;
    *) echo "unknown scenario $SCENARIO" >&2; exit 2 ;;
  esac
  CG_TAG=$1 timeout 900 "$BIN/sockeye-bench" --servers sockeye,socketioxide "${args[@]}" \
    --sockeye-bin "$WORK/sockeye.sh" --socketioxide-bin "$WORK/socketioxide.sh" \
    --out "$WORK/$1.md" >"$WORK/$1.log" 2>&1 || { cat "$WORK/$1.log" >&2; exit 1; }
  # One file per server process (the connect scenario starts one per transport, redis one
  # per node): summed.
  for s in sockeye socketioxide; do
    for f in "$WORK/$1-$s".*.cg; do
      callgrind_annotate --threshold=100 "$f" | sed -n '/file:function/,$p' | tail -n +3
    done >"$WORK/$1-$s.txt"
  done
}
case "$SCENARIO" in
  echo) run short 4; run long 12 ;;
  connect) run short 100; run long 300 ;;
  binary) run short 20; run long 60 ;;
  *) run short 50; run long 150 ;;
esac
python3 - "$WORK" "$SCENARIO" "$TOP" <<'PY'
import re, sys
work, scenario, top = sys.argv[1], sys.argv[2], int(sys.argv[3])
def load(path):
    d = {}
    for line in open(path):
        m = re.match(r'\s*([\d,]+)\s+\([^)]*\)\s+(.*)', line)
        if m:
            d[m.group(2)[:140]] = d.get(m.group(2)[:140], 0) + int(m.group(1).replace(',', ''))
    return d
def units(tag, col):
    # deliveries (fan-out: 200 clients x messages), connects (both transports) or acks
    # (acks per second x seconds)
    if scenario in ('fanout', 'fanout-all', 'redis'):
        return 200 * (50 if tag == 'short' else 150)
    if scenario == 'connect':
        return 2 * (100 if tag == 'short' else 300)
    if scenario == 'binary':
        return 10 * (20 if tag == 'short' else 60)
    for line in open(f'{work}/{tag}.md'):
        if line.startswith('| echo: acks per second'):
            return float(line.split('|')[3 + col].strip()) * (4 if tag == 'short' else 12)
for col, s in enumerate(['sockeye', 'socketioxide']):
    a, b = load(f'{work}/short-{s}.txt'), load(f'{work}/long-{s}.txt')
    n = units('long', col) - units('short', col)
    diff = {k: (b.get(k, 0) - a.get(k, 0)) / n for k in set(a) | set(b)}
    what = {'echo': 'ack', 'connect': 'connect', 'binary': 'echo'}.get(scenario, 'delivery')
    print(f'{s}: {sum(diff.values()):.0f} user instructions per {what}')
    for k, v in sorted(diff.items(), key=lambda x: -x[1])[:top]:
        print(f'  {v:7.0f}  {k}')
PY
