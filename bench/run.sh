#!/usr/bin/env bash
# Side-by-side HTTP benchmark: every selected server, one after the other, in one run.
#
#   bash bench/run.sh                                  # all servers, 10 s per scenario
#   DURATION=5 SERVERS="node-server bun-serve" bash bench/run.sh
#
# Env:
#   DURATION   seconds per scenario (default 10)
#   SERVERS    space-separated server names (default: all, see `SERVERS=list bash bench/run.sh`)
#   CONNS      wrk connections (default 64)
#   C1K_CONNS  wrk connections of the many-connections scenario c1k (default 1000)
#   DEPTH      pipelining depth (default 16)
#   WARMUP     warm-up seconds before measuring (default 2)
#   BASE_PORT  first port; server i listens on BASE_PORT+i (default 3900)
#   SERVER_CPU / CLIENT_CPU   taskset CPU lists (default 1 / 0)
#   QUIET_WAIT max seconds to wait for other processes to go quiet before a scenario (default 60)
#   RETRIES    re-measurements of a scenario disturbed by other processes (default 1)
#   TLS        1: HTTPS instead (a throwaway certificate made with openssl in bench/.out/tls/); only the
#              servers that serve HTTPS (anyserve, @hono/node-server over node:https, Bun.serve({ tls }),
#              Deno.serve({ cert, key })); scenarios: keep-alive, a new TLS connection per request
#              (Connection: close), /user/123, POST /echo
#   SCENARIOS  space-separated scenarios to run, in column order (default "ka pipe user post c1k";
#              with TLS=1 "ka close user post"); any of ka pipe user post c1k close
#   LATENCY_SCENARIOS  scenarios whose p50 / p99 get the latency table (default "ka c1k"; those
#              not in SCENARIOS are left out)
#   NODE_SOURCE 1: Node's anyserve servers load the TypeScript source (mod.ts) through Node's type
#              stripping instead of the npm build (dist/, built here with tsup first), which is what an
#              npm user runs; stripping anyserve's source costs Node ~40 MiB of RSS (bench/servers/env.ts)
#
# Each server is pinned to SERVER_CPU, wrk to CLIENT_CPU. Output: markdown tables (req/s, server
# CPU per request, p50 / p99 latency) on stdout and in bench/.out/latest.md; raw wrk output and
# server logs land in bench/.out/raw/.
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
C1K_CONNS="${C1K_CONNS:-1000}"
DEPTH="${DEPTH:-16}"
WARMUP="${WARMUP:-2}"
BASE_PORT="${BASE_PORT:-3900}"
SERVER_CPU="${SERVER_CPU:-1}"
CLIENT_CPU="${CLIENT_CPU:-0}"
OUT="$ROOT/bench/.out"
RAW="$OUT/raw"
S="$ROOT/bench/servers"
W="$ROOT/bench/wrk"

NODE="$ROOT/node_modules/.bin/node"
DENO="$ROOT/node_modules/.bin/deno"
BUN="$ROOT/node_modules/.bin/bun"

# name | runtime | file | label  (the first server of each runtime marked baseline below)
ALL_SERVERS=(
  "anyserve-node|node|anyserve.ts|anyserve"
  "anyserve-node-light|node|anyserve_light.ts|anyserve, lightweightGlobals (opt-in)"
  "node-server|node|node_server.ts|@hono/node-server"
  "srvx|node|srvx.ts|srvx"
  "node-http|node|node_http.ts|bare node:http (no Hono)"
  "raw-node|node|raw_node.ts|raw node:net (no HTTP)"
  "anyserve-bun|bun|anyserve.ts|anyserve"
  "anyserve-bun-light|bun|anyserve_light.ts|anyserve, lightweightGlobals (opt-in)"
  "bun-serve|bun|bun_serve.ts|Bun.serve"
  "raw-bun|bun|raw_bun.ts|raw Bun.listen (no HTTP)"
  "anyserve-deno|deno|anyserve.ts|anyserve"
  "anyserve-deno-light|deno|anyserve_light.ts|anyserve, lightweightGlobals (opt-in)"
  "deno-serve|deno|deno_serve.ts|Deno.serve"
  "raw-deno|deno|raw_deno.ts|raw Deno.listen (no HTTP)"
)
declare -A BASELINE=([node]=node-server [bun]=bun-serve [deno]=deno-serve)
declare -A RT_LABEL=([node]="Node" [bun]="Bun" [deno]="Deno")

log() { printf '%s\n' "$*" >&2; }

SCENARIOS_ENV="${SCENARIOS:-}"
SCENARIOS=(ka pipe user post c1k)
declare -A SC_TITLE=(
  [ka]="GET / keep-alive"
  [pipe]="GET / pipelined x${DEPTH}"
  [user]="GET /user/123"
  [post]="POST /echo 1 KiB"
  [c1k]="GET / keep-alive, ${C1K_CONNS} conns"
  [close]="GET / new connection each"
)
SCHEME=http
CURL_TLS=()
if [[ "${TLS:-}" == "1" ]]; then
  SCENARIOS=(ka close user post)
  SCHEME=https
  TLS_DIR="$ROOT/bench/.out/tls"
  mkdir -p "$TLS_DIR"
  if [[ ! -s "$TLS_DIR/cert.pem" ]]; then
    command -v openssl >/dev/null || { log "error: TLS=1 needs the openssl command"; exit 1; }
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" -days 7 \
      -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null || { log "error: openssl failed"; exit 1; }
  fi
  export TLS_CERT="$TLS_DIR/cert.pem" TLS_KEY="$TLS_DIR/key.pem"
  CURL_TLS=(--cacert "$TLS_CERT")
  TLS_SERVERS=" anyserve-node node-server anyserve-bun bun-serve anyserve-deno deno-serve "
  filtered=()
  for e in "${ALL_SERVERS[@]}"; do [[ "$TLS_SERVERS" == *" ${e%%|*} "* ]] && filtered+=("$e"); done
  ALL_SERVERS=("${filtered[@]}")
fi
if [[ -n "$SCENARIOS_ENV" ]]; then
  SCENARIOS=()
  for sc in $SCENARIOS_ENV; do
    if [[ -z "${SC_TITLE[$sc]:-}" ]]; then log "error: unknown scenario '$sc' (known: ${!SC_TITLE[*]})"; exit 1; fi
    SCENARIOS+=("$sc")
  done
fi
LAT_SCENARIOS=()
for sc in ${LATENCY_SCENARIOS:-ka c1k}; do
  [[ " ${SCENARIOS[*]} " == *" $sc "* ]] && LAT_SCENARIOS+=("$sc")
done

if [[ "${SERVERS:-}" == "list" ]]; then
  for e in "${ALL_SERVERS[@]}"; do IFS='|' read -r n rt f l <<<"$e"; printf '%-14s %-5s %s\n' "$n" "$rt" "$l"; done
  exit 0
fi

for tool in wrk taskset curl; do
  command -v "$tool" >/dev/null || { log "error: '$tool' not found (apt-get install -y wrk util-linux curl)"; exit 1; }
done

# Servers and wrk inherit this: c1k needs C1K_CONNS descriptors in each (plus a few dozen of their own).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ " ${SCENARIOS[*]} " == *" c1k "* ]] && (( $(ulimit -n) < C1K_CONNS + 64 )); then
  log "warning: ulimit -n is $(ulimit -n), too few for c1k's ${C1K_CONNS} connections; expect socket errors"
fi

mkdir -p "$RAW" && rm -f "$RAW"/*

SELECTED=()
if [[ -n "${SERVERS:-}" ]]; then
  for want in $SERVERS; do
    found=""
    for e in "${ALL_SERVERS[@]}"; do [[ "${e%%|*}" == "$want" ]] && found="$e"; done
    if [[ -z "$found" ]]; then log "warning: unknown server '$want' (SERVERS=list shows the names), skipped"; continue; fi
    SELECTED+=("$found")
  done
else
  SELECTED=("${ALL_SERVERS[@]}")
fi

# results.tsv rows: name, runtime, label, peak RSS, note, then one req/s field per scenario
# (in SCENARIOS order). row_all <name> <rt> <label> <value for every scenario> <note>
row_all() {
  local line="$1"$'\t'"$2"$'\t'"$3"$'\t-\t'"$5" sc
  for sc in "${SCENARIOS[@]}"; do line+=$'\t'"$4"; done
  printf '%s\n' "$line" >>"$RESULTS"
  line="$1"$'\t'"$2"$'\t'"$3"
  for sc in "${LAT_SCENARIOS[@]}"; do line+=$'\t'"$4"$'\t'"$4"; done
  printf '%s\n' "$line" >>"$LAT_RESULTS"
}

CUR_PID=""
cleanup() {
  if [[ -n "$CUR_PID" ]] && kill -0 "$CUR_PID" 2>/dev/null; then
    kill "$CUR_PID" 2>/dev/null
    sleep 0.3
    kill -9 "$CUR_PID" 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

stop_server() {
  local pid=$1 i
  kill "$pid" 2>/dev/null
  for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  CUR_PID=""
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

CLK_TCK="$(getconf CLK_TCK 2>/dev/null || echo 100)"
# CPU time (ticks) spent in user+nice+system+irq+softirq on the whole machine, and by one process (all threads).
cpu_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
proc_cpu() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# This machine is shared: wait (up to QUIET_WAIT s) until other processes use < 10% of a core.
QUIET_WAIT="${QUIET_WAIT:-60}"
RETRIES="${RETRIES:-1}"
wait_quiet() {
  local pid=$1 waited=0 b0 s0 b1 s1 foreign
  while :; do
    b0=$(cpu_busy); s0=$(proc_cpu "$pid"); sleep 1; b1=$(cpu_busy); s1=$(proc_cpu "$pid")
    foreign=$(( (b1 - b0) - (s1 - s0) ))
    (( foreign * 10 <= CLK_TCK )) && return 0
    (( waited == 0 )) && log "   waiting for the machine to go quiet (other processes: $(( foreign * 100 / CLK_TCK ))% of a core)..."
    waited=$((waited + 1))
    (( waited >= QUIET_WAIT )) && { log "   still busy after ${QUIET_WAIT}s, measuring anyway"; return 1; }
  done
}

# Connections whose handshake completed while a listener's accept queue (its listen backlog: 511
# on Node and Deno, 512 on Bun, read with `ss -ltn`) was full, machine-wide (TcpExt ListenOverflows).
# Linux then drops the handshake's last ACK and retransmits the SYN-ACK 1 s later (2 s, 4 s, ...):
# the client, already connected on its side, has sent its request, which waits that long.
listen_overflows() {
  awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "ListenOverflows") c = i; h = 1 } else if (c) print $c }' \
    /proc/net/netstat 2>/dev/null
}

# wrk_run <server pid> <outfile> <wrk args...>: prints req/s (or "fail"); '*' = wrk reported
# socket errors / non-2xx; '~' = other processes used >= 10% of a core during the measurement.
wrk_run() {
  local pid=$1 outf=$2; shift 2
  wait_quiet "$pid"
  local b0 s0 b1 s1 wt o0 o1
  o0=$(listen_overflows); b0=$(cpu_busy); s0=$(proc_cpu "$pid")
  wt=$( { taskset -c "$CLIENT_CPU" wrk "$@" >"$outf" 2>&1; times; } | awk 'NR == 2 {
          split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
  b1=$(cpu_busy); s1=$(proc_cpu "$pid"); o1=$(listen_overflows)
  if [[ -n "$o0" && -n "$o1" ]]; then
    echo "listen queue overflows (whole machine): $((o1 - o0))" >>"$outf"
    (( o1 > o0 )) && log "   note: $((o1 - o0)) connections found a full accept queue (those requests waited >= 1 s for a SYN-ACK retransmit)"
  fi
  local foreign
  foreign=$(awk -v b="$((b1 - b0))" -v s="$((s1 - s0))" -v w="${wt:-0}" -v hz="$CLK_TCK" -v d="$DURATION" \
    'BEGIN { printf "%.0f", (b - s - w * hz) * 100 / (hz * d) }')
  echo "other processes: ${foreign}% of a core" >>"$outf"
  # Server CPU time per request (user + system, all threads): the figure that moves least with
  # other people's load on a shared machine. Read back by cpu_us below.
  awk -v t="$((s1 - s0))" -v hz="$CLK_TCK" '/ requests in / { n = $1 } END {
    if (n > 0) printf "server CPU: %.2f us/request\n", t / hz * 1e6 / n }' "$outf" >>"$outf"
  local rps
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$outf")
  if [[ -z "$rps" ]]; then echo "fail"; return; fi
  rps=$(printf '%.0f' "$rps")
  # wrk prints these lines only when there were errors
  if grep -qE '^ *(Non-2xx or 3xx responses|Socket errors):' "$outf"; then rps="${rps}*"; fi
  if (( foreign >= 10 )); then rps="${rps}~"; fi
  echo "$rps"
}

# the server CPU µs/request that wrk_run appended to a raw wrk file, or "-"
cpu_us() { awk '/^server CPU: / { v = $3 } END { print (v == "" ? "-" : v) }' "$1" 2>/dev/null || echo "-"; }

# a percentile (50, 75, 90 or 99) of wrk's "Latency Distribution" block in a raw wrk file, in ms
# (wrk prints it as e.g. "99%  635.00us", "1.20ms", "2.01s", "1.50m"), or "-"
lat_ms() {
  awk -v want="$2%" '
    /^ *Latency Distribution/ { in_block = 1; next }
    in_block && $1 == want {
      v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      f = (unit == "us") ? 0.001 : (unit == "ms") ? 1 : (unit == "s") ? 1000 : (unit == "m") ? 60000 : (unit == "h") ? 3600000 : -1
      if (f > 0 && v ~ /^[0-9.]+$/) { ms = v * f; found = 1 }
      exit
    }
    in_block && $1 !~ /%$/ { in_block = 0 }
    END { if (!found) print "-"; else if (ms < 10) printf "%.2f\n", ms; else if (ms < 100) printf "%.1f\n", ms; else printf "%.0f\n", ms }
  ' "$1" 2>/dev/null || echo "-"
}

RESULTS="$RAW/results.tsv"
CPU_RESULTS="$RAW/cpu.tsv"
LAT_RESULTS="$RAW/latency.tsv"
: >"$RESULTS"
: >"$CPU_RESULTS"
: >"$LAT_RESULTS"
STARTED_AT="$(date -u '+%Y-%m-%d %H:%M UTC')"

idx=0
for e in "${SELECTED[@]}"; do
  IFS='|' read -r name rt file label <<<"$e"
  port=$((BASE_PORT + idx)); idx=$((idx + 1))
  slog="$RAW/$name.server.log"

  if [[ "$file" == "anyserve.ts" && ! -f "$ROOT/mod.ts" ]]; then
    log "skip $name: $ROOT/mod.ts does not exist yet"
    row_all "$name" "$rt" "$label" skip "mod.ts missing"
    continue
  fi
  case $rt in
    node) cmd=("$NODE" "$S/$file") ;;
    bun) cmd=("$BUN" "$S/$file") ;;
    deno) cmd=("$DENO" run -A "$S/$file") ;;
  esac
  if [[ ! -x "${cmd[0]}" ]]; then
    log "skip $name: runtime ${cmd[0]} not found"
    row_all "$name" "$rt" "$label" skip "runtime missing"
    continue
  fi
  if port_open "$port"; then
    log "skip $name: port $port already in use"
    row_all "$name" "$rt" "$label" skip "port busy"
    continue
  fi

  dist=0
  if [[ "$rt" == node && "$file" == anyserve* && "${NODE_SOURCE:-}" != "1" ]]; then
    if [[ -z "${DIST_BUILT:-}" ]]; then
      "$ROOT/node_modules/.bin/tsup" >"$RAW/tsup.log" 2>&1 || { log "error: the tsup build failed (bench/.out/raw/tsup.log)"; exit 1; }
      DIST_BUILT=1
    fi
    dist=1
  fi
  log "== $name ($label, $rt) on :$port"
  PORT=$port ANYSERVE_DIST=$dist taskset -c "$SERVER_CPU" "${cmd[@]}" >"$slog" 2>&1 &
  pid=$!
  CUR_PID=$pid
  up=""
  for _ in $(seq 150); do # up to 15 s (first Deno run may compile/cache)
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    if port_open "$port"; then up=1; break; fi
    sleep 0.1
  done
  if [[ -z "$up" ]]; then
    why="did not listen on :$port within 15 s"
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; why="exited with status $? before listening"; }
    log "FAIL $name: $why; server log tail:"
    tail -n 15 "$slog" | sed 's/^/    /' >&2
    stop_server "$pid"
    row_all "$name" "$rt" "$label" fail "$why"
    continue
  fi
  if ! body=$(curl -sS "${CURL_TLS[@]}" --max-time 5 "$SCHEME://127.0.0.1:$port/" 2>&1) || [[ "$body" != *"Hello, World!"* ]]; then
    log "FAIL $name: GET / did not answer 'Hello, World!' (got: ${body:0:200})"
    stop_server "$pid"
    row_all "$name" "$rt" "$label" fail "bad GET / response"
    continue
  fi

  url="$SCHEME://127.0.0.1:$port"
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" "$url/" >"$RAW/$name.warmup.txt" 2>&1

  declare -A R=()
  for sc in "${SCENARIOS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then R[$sc]="died"; continue; fi
    # --latency: wrk adds its "Latency Distribution" block (50/75/90/99%), read back by lat_ms
    case $sc in
      ka) args=(-t1 -c"$CONNS" -d"${DURATION}s" --latency "$url/") ;;
      close) args=(-t1 -c"$CONNS" -d"${DURATION}s" --latency -H "Connection: close" "$url/") ;;
      pipe) args=(-t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$W/pipeline.lua" "$url/" -- "$DEPTH" /) ;;
      user) args=(-t1 -c"$CONNS" -d"${DURATION}s" --latency "$url/user/123") ;;
      post) args=(-t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$W/post.lua" "$url/echo") ;;
      c1k) args=(-t1 -c"$C1K_CONNS" -d"${DURATION}s" --latency "$url/") ;;
    esac
    R[$sc]=$(wrk_run "$pid" "$RAW/$name.$sc.txt" "${args[@]}")
    # a measurement disturbed by other processes is retried (RETRIES times, default 1)
    for ((try = 0; try < RETRIES; try++)); do
      [[ "${R[$sc]}" == *"~"* ]] || break
      log "   ${SC_TITLE[$sc]}: ${R[$sc]} req/s (disturbed by other processes, retrying)"
      cp "$RAW/$name.$sc.txt" "$RAW/$name.$sc.disturbed$try.txt"
      R[$sc]=$(wrk_run "$pid" "$RAW/$name.$sc.txt" "${args[@]}")
    done
    log "   ${SC_TITLE[$sc]}: ${R[$sc]} req/s"
  done
  rss="-"
  if [[ -r "/proc/$pid/status" ]]; then
    kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    [[ -n "$kb" ]] && rss=$(awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }')
  fi
  note=""
  kill -0 "$pid" 2>/dev/null || note="server died during run"
  log "   peak RSS: ${rss} MiB ${note}"
  stop_server "$pid"
  row="$name"$'\t'"$rt"$'\t'"$label"$'\t'"$rss"$'\t'"$note"
  for sc in "${SCENARIOS[@]}"; do row+=$'\t'"${R[$sc]}"; done
  printf '%s\n' "$row" >>"$RESULTS"
  cpu_row="$label|${RT_LABEL[$rt]}"
  for sc in "${SCENARIOS[@]}"; do cpu_row+="|$(cpu_us "$RAW/$name.$sc.txt")"; done
  echo "$cpu_row" >>"$CPU_RESULTS"
  # latency.tsv: name, runtime, label, then p50 and p99 (ms) per LAT_SCENARIOS entry; the p99
  # carries the req/s cell's * / ~ marks (errors, disturbed measurement)
  row="$name"$'\t'"$rt"$'\t'"$label"
  for sc in "${LAT_SCENARIOS[@]}"; do
    marks="${R[$sc]//[^*~]/}"
    p99=$(lat_ms "$RAW/$name.$sc.txt" 99)
    [[ "$p99" != "-" ]] && p99+="$marks"
    row+=$'\t'"$(lat_ms "$RAW/$name.$sc.txt" 50)"$'\t'"$p99"
  done
  printf '%s\n' "$row" >>"$LAT_RESULTS"
  unset R
  sleep 0.5
done

# ---- table ----
# Shared by the table programs below: a value without its * / ~ marks, whether it is a number,
# and each runtime's baseline server (bn / bb / bd) and label.
AWK_LIB='
  function num(v) { gsub(/[*~]/, "", v); return v }
  function isnum(v) { return num(v) ~ /^[0-9]+(\.[0-9]+)?$/ }
  function names() {
    base["node"] = bn; base["bun"] = bb; base["deno"] = bd
    rl["node"] = "Node"; rl["bun"] = "Bun"; rl["deno"] = "Deno"
  }
'
{
  echo "<!-- bench/run.sh, $STARTED_AT -->"
  [[ "$SCHEME" == https ]] && echo "HTTPS (TLS=1): a 2048-bit RSA certificate; wrk's OpenSSL client."
  c1k_note=""
  [[ " ${SCENARIOS[*]} " == *" c1k "* ]] && c1k_note=" (c1k: -c${C1K_CONNS})"
  echo "DURATION=${DURATION}s per scenario, wrk -t1 -c${CONNS}${c1k_note} on CPU ${CLIENT_CPU}, server on CPU ${SERVER_CPU}, warm-up ${WARMUP}s, pipelining depth ${DEPTH}."
  echo "Runtimes: Node $("$NODE" -v 2>/dev/null), Bun $("$BUN" -v 2>/dev/null), $("$DENO" -v 2>/dev/null | head -1)."
  if [[ "${NODE_SOURCE:-}" == "1" ]]; then echo "anyserve on Node: the TypeScript source (NODE_SOURCE=1), through Node's type stripping."
  else echo "anyserve on Node: the npm build (dist/, tsup); on Bun and Deno: the TypeScript source."; fi
  echo "Ratio (x) = req/s / req/s of the runtime's baseline (Node: @hono/node-server, Bun: Bun.serve, Deno: Deno.serve)."
  echo
  hdr="| Server | Runtime"
  sep="|---|---"
  for sc in "${SCENARIOS[@]}"; do hdr+=" | ${SC_TITLE[$sc]} | x"; sep+="|---:|---:"; done
  echo "$hdr | Peak RSS (MiB) |"
  echo "$sep|---:|"
  awk -F'\t' -v bn="${BASELINE[node]}" -v bb="${BASELINE[bun]}" -v bd="${BASELINE[deno]}" "$AWK_LIB"'
    function fmt(v,   n, s, star) {
      if (num(v) !~ /^[0-9]+$/) return v # whole req/s only
      star = (v ~ /\*/) ? "*" : ""; star = star ((v ~ /~/) ? "~" : ""); n = num(v); s = ""
      while (length(n) > 3) { s = "," substr(n, length(n) - 2) s; n = substr(n, 1, length(n) - 3) }
      return n s star
    }
    # fields: name, runtime, label, peak RSS, note, then one req/s per scenario
    { rows[NR] = $0; nf[NR] = NF; for (i = 6; i <= NF; i++) val[$1, i] = $i }
    END {
      names()
      for (r = 1; r <= NR; r++) {
        n = split(rows[r], f, "\t")
        b = base[f[2]]
        line = "| " f[3] (f[1] == b ? " (baseline)" : "") (f[5] != "" ? " — " f[5] : "") " | " rl[f[2]]
        for (i = 6; i <= n; i++) {
          bv = val[b, i]
          ratio = (isnum(f[i]) && isnum(bv) && num(bv) > 0) ? sprintf("%.2f", num(f[i]) / num(bv)) : "—"
          line = line " | " fmt(f[i]) " | " ratio
        }
        print line " | " f[4] " |"
      }
    }' "$RESULTS"
  echo
  echo "Server CPU time per request (µs, user + system, lower is better):"
  echo
  hdr="| Server | Runtime"
  sep="|---|---"
  for sc in "${SCENARIOS[@]}"; do hdr+=" | ${SC_TITLE[$sc]}"; sep+="|---:"; done
  echo "$hdr |"
  echo "$sep|"
  sed 's/|/ | /g; s/^/| /; s/$/ |/' "$CPU_RESULTS"
  echo
  if (( ${#LAT_SCENARIOS[@]} > 0 )); then
    echo "p50 / p99 latency (ms, wrk --latency; lower is better; x = p99 / p99 of the runtime's baseline):"
    echo
    hdr="| Server | Runtime"
    sep="|---|---"
    for sc in "${LAT_SCENARIOS[@]}"; do hdr+=" | ${SC_TITLE[$sc]} p50 | p99 | x"; sep+="|---:|---:|---:"; done
    echo "$hdr |"
    echo "$sep|"
    awk -F'\t' -v bn="${BASELINE[node]}" -v bb="${BASELINE[bun]}" -v bd="${BASELINE[deno]}" "$AWK_LIB"'
      # fields: name, runtime, label, then p50 and p99 (ms) per latency scenario
      { rows[NR] = $0; for (i = 4; i <= NF; i++) val[$1, i] = $i }
      END {
        names()
        for (r = 1; r <= NR; r++) {
          n = split(rows[r], f, "\t")
          b = base[f[2]]
          line = "| " f[3] (f[1] == b ? " (baseline)" : "") " | " rl[f[2]]
          for (i = 4; i + 1 <= n; i += 2) {
            bv = val[b, i + 1]
            ratio = (isnum(f[i + 1]) && isnum(bv) && num(bv) > 0) ? sprintf("%.2f", num(f[i + 1]) / num(bv)) : "—"
            line = line " | " f[i] " | " f[i + 1] " | " ratio
          }
          print line " |"
        }
      }' "$LAT_RESULTS"
    echo
  fi
  echo "\`*\` = wrk reported socket errors or non-2xx responses; \`~\` = other processes used >= 10% of a core during that measurement (shared machine; number less reliable). Details: bench/.out/raw/<server>.<scenario>.txt."
} >"$OUT/latest.md"

cat "$OUT/latest.md"
