#!/usr/bin/env bash
# Server CPU time per request, interleaved A/B: the measure to use on a shared machine, where
# req/s moves with other people's load but the server's own CPU time per request barely does.
#
#   bash bench/cpu_ab.sh deno "/tmp/base/bench/servers/anyserve.ts" "bench/servers/anyserve.ts"
#   REPS=5 SCENARIO=pipe bash bench/cpu_ab.sh bun bench/servers/bun_serve.ts bench/servers/anyserve.ts
#
# Args: <runtime: node|bun|deno> <server file>... (each file is one variant; a file in another
# checkout runs that checkout's code, since the servers import ../../mod.ts).
# Env: REPS (default 3), DURATION (5 s), CONNS (64), SCENARIO (ka | pipe | user | post; ka),
#      DEPTH (16), SERVER_CPU / CLIENT_CPU (1 / 0), PORT (3990), WRK_OUT (a folder: keep each
#      measurement's wrk output there as <variant>.<repetition>.txt, for the whole latency spread).
#
# For each repetition, each variant in turn (A, B, A, B, ...): start it pinned to SERVER_CPU,
# warm up 2 s, read utime+stime of the server from /proc/PID/stat, run wrk pinned to CLIENT_CPU,
# read it again. µs/req = CPU time / requests wrk completed. Prints one line per measurement and
# the median per variant (µs/req and its system-time part, req/s, wrk's p99 latency, and VmHWM). Each measurement waits
# (QUIET_WAIT s at most) for other processes to go below 10% of a core; the line shows wrk's error
# line count / other processes' CPU during the run, as bench/run.sh computes it.
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RT="$1"; shift
REPS="${REPS:-3}"; DURATION="${DURATION:-5}"; CONNS="${CONNS:-64}"; SCENARIO="${SCENARIO:-ka}"
DEPTH="${DEPTH:-16}"; SERVER_CPU="${SERVER_CPU:-1}"; CLIENT_CPU="${CLIENT_CPU:-0}"; PORT="${PORT:-3990}"
BIN="$ROOT/node_modules/.bin"
HZ="$(getconf CLK_TCK)"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
proc_cpu() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
proc_sys() { awk '{ sub(/^.*\) /, ""); print $13 }' "/proc/$1/stat"; }
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# Wait (up to QUIET_WAIT s, default 120) until processes other than $1 use < 10% of a core.
wait_quiet() {
  local b0 s0 b1 s1 i
  for ((i = 0; i < ${QUIET_WAIT:-120}; i++)); do
    b0=$(cpu_busy); s0=$(proc_cpu "$1"); sleep 1; b1=$(cpu_busy); s1=$(proc_cpu "$1")
    (( ((b1 - b0) - (s1 - s0)) * 10 <= HZ )) && return 0
  done
  return 1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
url="http://127.0.0.1:$PORT"
case $SCENARIO in
  ka) args=("$url/") ;;
  user) args=("$url/user/123") ;;
  pipe) args=(-s "$ROOT/bench/wrk/pipeline.lua" "$url/" -- "$DEPTH" /) ;;
  post) args=(-s "$ROOT/bench/wrk/post.lua" "$url/echo") ;;
  *) echo "unknown SCENARIO $SCENARIO" >&2; exit 1 ;;
esac
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"; [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null' EXIT

for ((r = 0; r < REPS; r++)); do
  v=0
  for f in "$@"; do
    case $RT in
      node) cmd=("$BIN/node" "$f") ;;
      bun) cmd=("$BIN/bun" "$f") ;;
      deno) cmd=("$BIN/deno" run -A "$f") ;;
    esac
    PORT=$PORT taskset -c "$SERVER_CPU" "${cmd[@]}" >"$TMP/log" 2>&1 &
    pid=$!
    for _ in $(seq 150); do port_open "$PORT" && break; sleep 0.1; done
    taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d2s "$url/" >/dev/null 2>&1
    wait_quiet "$pid"
    b0=$(cpu_busy); c0=$(proc_cpu "$pid"); k0=$(proc_sys "$pid")
    wt=$( { taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "${args[@]}" >"$TMP/wrk" 2>&1; times; } |
      awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
    c1=$(proc_cpu "$pid"); k1=$(proc_sys "$pid"); b1=$(cpu_busy)
    # other processes' share of a core during the run (machine busy time - server - wrk)
    other=$(awk -v b="$((b1 - b0))" -v s="$((c1 - c0))" -v w="${wt:-0}" -v hz="$HZ" -v d="$DURATION" \
      'BEGIN { printf "%.0f", (b - s - w * hz) * 100 / (hz * d) }')
    hwm=$(awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status")
    kill "$pid"; wait "$pid" 2>/dev/null; pid=""
    reqs=$(awk '/requests in/ { print $1 }' "$TMP/wrk")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$TMP/wrk")
    p99=$(awk '$1 == "99%" { print $2 }' "$TMP/wrk")
    errs=$(grep -cE '^ *(Non-2xx|Socket errors)' "$TMP/wrk")
    [[ -n "${WRK_OUT:-}" ]] && mkdir -p "$WRK_OUT" && cp "$TMP/wrk" "$WRK_OUT/$v.$r.txt"
    us=$(awk -v c="$((c1 - c0))" -v hz="$HZ" -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.2f", c / hz * 1e6 / n; else print "nan" }')
    sys=$(awk -v c="$((k1 - k0))" -v hz="$HZ" -v n="${reqs:-0}" 'BEGIN { if (n > 0) printf "%.2f", c / hz * 1e6 / n; else print "nan" }')
    printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$r" "$us" "$rps" "$p99" "$hwm" "$errs/${other}%" "$sys" "$f" | tee -a "$TMP/all" >&2
    v=$((v + 1))
    sleep 0.3
  done
done
echo "variant | µs/req (median) | of it, system | req/s | p99 | peak RSS MiB | server"
v=0
for f in "$@"; do
  awk -F'\t' -v v="$v" '$1 == v' "$TMP/all" | sort -t$'\t' -k3,3n | awk -F'\t' '{ a[NR] = $0 } END {
    split(a[int((NR + 1) / 2)], m, "\t"); printf "%s | %s | %s | %s | %s | %s | %s\n", m[1], m[3], m[8], m[4], m[5], m[6], m[9] }'
  v=$((v + 1))
done
