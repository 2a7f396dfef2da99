#!/usr/bin/env bash
# Instructions per keep-alive request, counted by valgrind (callgrind), not timed: the same build
# and load give the same count within about 0.1% whatever else the machine is doing (Deno.serve:
# 13,371-13,379 in four windows; a window where a major collection falls jumps by up to a third),
# where a timed A/B moves by several percent here. It is how to tell apart changes worth 1-3%.
#
#   bash bench/probes/instr.sh deno bench/servers/anyserve.ts bench/servers/raw_deno.ts
#   bash bench/probes/instr.sh bun  /tmp/base/bench/servers/anyserve_light.ts bench/servers/anyserve_light.ts
#
# For each server: start it under callgrind, send WARM requests (the count per request falls while
# the JIT tiers up: about 30,000 requests on Deno and Bun; on Node it still fell 11% from one
# window to the next after 60,000), then WINDOWS windows of COUNT requests,
# zeroing callgrind's counters before each and dumping them after; prints each window's
# instructions per request. Counts are user-space instructions of all the server's threads
# (JavaScript, the runtime, libc); the kernel's side of each read and write is not in them, and
# neither are cache misses or stalls. So a count says which of two builds does less work, not
# how much faster it is: confirm a real speed-up with bench/cpu_ab.sh.
#
# PROFILE=1 (Deno and Node): also say where the last window's instructions went, per function,
# JavaScript named from V8's perf map (bench/probes/instr_attr.mjs; TOP entries, default 40).
#
# POST_BYTES=<n>: count a POST of an n-byte body to URL_PATH instead (URL_PATH=/echo POST_BYTES=1024 is
# the benchmark's POST scenario; bench/probes/fixed_client.mjs).
#
# Env: WARM (40000), COUNT (10000), WINDOWS (3), CONNS (8), URL_PATH (/), PORT (3993),
# START_WAIT (180 s: Deno and Bun take about a minute to start under valgrind).
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RT="$1"; shift
WARM="${WARM:-40000}"; COUNT="${COUNT:-10000}"; WINDOWS="${WINDOWS:-3}"; CONNS="${CONNS:-8}"
URL_PATH="${URL_PATH:-/}"; PORT="${PORT:-3993}"; START_WAIT="${START_WAIT:-180}"
BIN="$ROOT/node_modules/.bin"
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install -y valgrind)" >&2; exit 1; }
DIR="$(mktemp -d /tmp/instr.XXXXXX)"
trap 'rm -rf "$DIR"; [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null' EXIT
client() { "$BIN/node" "$ROOT/bench/probes/fixed_client.mjs" "$PORT" "$1" "$CONNS" "$URL_PATH"; }

PROFILE="${PROFILE:-}"; TOP="${TOP:-40}"
extra=()
[[ -n "$PROFILE" ]] && extra=(--dump-instr=yes)
for FILE in "$@"; do
  case $RT in
    # (--perf-basic-prof also writes V8's log: into $DIR, not the current folder.)
    deno) cmd=("$(readlink -f "$BIN/deno")" run -A ${PROFILE:+"--v8-flags=--perf-basic-prof,--logfile=$DIR/v8.log,--no-logfile-per-isolate"} "$FILE") ;;
    bun) [[ -z "$PROFILE" ]] || { echo "PROFILE=1 needs V8's perf map: Deno or Node" >&2; exit 1; }
      cmd=("$(readlink -f "$BIN/bun")" "$FILE") ;;
    node) cmd=("$(readlink -f "$BIN/node")" ${PROFILE:+--perf-basic-prof "--logfile=$DIR/v8.log" --no-logfile-per-isolate} "$FILE") ;;
    *) echo "runtime must be node, deno or bun" >&2; exit 1 ;;
  esac
  # A server already on PORT (another run of this probe) would take the load and the count.
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT is in use: set PORT" >&2; exit 1; fi
  # --smc-check: the JIT rewrites code it already ran.
  PORT=$PORT valgrind --tool=callgrind --smc-check=all-non-file "${extra[@]}" \
    --callgrind-out-file="$DIR/cg.%p" "${cmd[@]}" >"$DIR/server.log" 2>&1 &
  pid=$!
  up=""
  for _ in $(seq $((START_WAIT * 2))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && { up=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  [[ -n "$up" ]] || { echo "$FILE did not start:" >&2; tail -5 "$DIR/server.log" >&2; exit 1; }
  client "$WARM"
  counts=""
  for w in $(seq "$WINDOWS"); do
    callgrind_control -z "$pid" >/dev/null 2>&1
    client "$COUNT"
    callgrind_control -d "w$w" "$pid" >/dev/null 2>&1
    file=$(ls -t "$DIR"/cg.*.* | head -1)
    ir=$(awk '/^summary:/ { print $2 }' "$file")
    counts="$counts $(awk -v ir="$ir" -v n="$COUNT" 'BEGIN { printf "%.0f", ir / n }')"
    if [[ -n "$PROFILE" && $w == "$WINDOWS" ]]; then mv "$file" "$DIR/last"; else rm -f "$file"; fi
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$DIR"/cg.*
  echo "$FILE ($RT): instructions per request, $WINDOWS windows of $COUNT after $WARM:$counts"
  if [[ -n "$PROFILE" ]]; then
    "$BIN/node" "$ROOT/bench/probes/instr_attr.mjs" "$DIR/last" "/tmp/perf-$pid.map" "$COUNT" "$TOP"
    rm -f "$DIR/last" "/tmp/perf-$pid.map"
  fi
  pid=""
done
