#!/usr/bin/env bash
# Where a V8 server's time goes per request: V8's sampling profiler (--prof) over one keep-alive
# run, its ticks divided by the requests wrk completed. Works for Deno (which has no --cpu-prof)
# and Node. A tick is about 1 ms of the JavaScript thread, in JavaScript, in V8's C++, in the
# collector or in a system call made from C++ (on a loopback server mostly `send`, which also
# runs the receiving side's TCP work and wakes the client).
#
#   bash bench/probes/v8_prof.sh deno bench/servers/anyserve.ts
#   bash bench/probes/v8_prof.sh node bench/servers/raw_node.ts
#
# Env: DURATION (6 s), CONNS (64), PORT (3991), TOP (25 JavaScript entries shown), SERVER_CPU /
# CLIENT_CPU (1 / 0). The processed profile stays in $OUT (default /tmp/v8_prof.<file>.txt).
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RT="$1"; FILE="$2"
DURATION="${DURATION:-6}"; CONNS="${CONNS:-64}"; PORT="${PORT:-3991}"; TOP="${TOP:-25}"
SERVER_CPU="${SERVER_CPU:-1}"; CLIENT_CPU="${CLIENT_CPU:-0}"
OUT="${OUT:-/tmp/v8_prof.$(basename "$FILE").txt}"
BIN="$ROOT/node_modules/.bin"
LOG="$(mktemp /tmp/v8_prof.XXXXXX.log)"
trap 'rm -f "$LOG"; [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null' EXIT
case $RT in
  deno) cmd=("$BIN/deno" run -A "--v8-flags=--prof,--logfile=$LOG,--no-logfile-per-isolate" "$FILE") ;;
  node) cmd=("$BIN/node" --prof "--logfile=$LOG" --no-logfile-per-isolate "$FILE") ;;
  *) echo "runtime must be deno or node" >&2; exit 1 ;;
esac
PORT=$PORT taskset -c "$SERVER_CPU" "${cmd[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 150); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
reqs=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$PORT/" | awk '/requests in/ { print $1 }')
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
"$BIN/node" --prof-process "$LOG" 2>/dev/null >"$OUT"
echo "$FILE: $reqs requests in ${DURATION} s (under the profiler); µs per request by V8's summary:"
awk -v n="$reqs" '/\[Summary\]/ { s = 1; next } s && /^ *$/ { exit } s && $1 ~ /^[0-9]+$/ {
  name = $0; sub(/^ *[0-9]+ +[0-9.]+% +([0-9.]+% +)?/, "", name); printf "  %-18s %6.2f\n", name, $1 * 1000 / n }' "$OUT"
echo "C++ entry points (µs per request):"
awk -v n="$reqs" '/\[C\+\+ entry points\]/ { s = 1; getline; next } s && /^ *$/ { exit } s && $1 ~ /^[0-9]+$/ && c++ < 5 {
  printf "  %-40s %6.2f\n", $4, $1 * 1000 / n }' "$OUT"
echo "JavaScript (µs per request, top $TOP):"
awk -v n="$reqs" -v top="$TOP" '/\[JavaScript\]/ { s = 1; getline; next } s && /^ *$/ { exit } s && $1 ~ /^[0-9]+$/ && c++ < top {
  name = $0; sub(/^ *[0-9]+ +[0-9.]+% +[0-9.]+% +/, "", name); printf "  %6.3f  %s\n", $1 * 1000 / n, name }' "$OUT"
echo "(whole profile: $OUT)"
