#!/usr/bin/env bash
# Proxy benchmark: the same two upstreams measured directly, behind nginx (split_clients,
# 10% split) and behind `rollgate edge` (10% canary rollout, audience rules, telemetry on),
# and once more with a User-Agent `device` rule added to the audience (`rollgate+ua`).
# Each target is measured ROUNDS times, interleaved; the table shows the median of each
# column over the rounds, including the proxy's CPU time per request, which a shared machine
# disturbs less than throughput. Prints the ratio rollgate/nginx.
#
#   bench/proxy.sh                      # defaults below
#   WORKERS=2 DURATION=20 bench/proxy.sh
#
# Everything listens on 127.0.0.1; every process this script starts is stopped by PID.
set -euo pipefail

WORKERS=${WORKERS:-$(nproc)}  # nginx worker_processes = rollgate worker threads (default: one per core, both)
CONNECTIONS=${CONNECTIONS:-64} # wrk keep-alive connections
THREADS=${THREADS:-1}          # wrk threads
DURATION=${DURATION:-10}       # seconds measured, after a warm-up of WARMUP seconds
WARMUP=${WARMUP:-3}
UPSTREAM_THREADS=${UPSTREAM_THREADS:-1}
ROUNDS=${ROUNDS:-3}
BASE_PORT=${BASE_PORT:-18080}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE="$ROOT/bench/proxy"
OUT=$(mktemp -d /tmp/rollgate-bench.XXXXXX)
STABLE="127.0.0.1:$((BASE_PORT + 1))"
CANARY="127.0.0.1:$((BASE_PORT + 2))"
NGINX="127.0.0.1:$((BASE_PORT + 10))"
EDGE="127.0.0.1:$((BASE_PORT + 20))"
ADMIN="127.0.0.1:$((BASE_PORT + 21))"
EDGE_UA="127.0.0.1:$((BASE_PORT + 30))"
ADMIN_UA="127.0.0.1:$((BASE_PORT + 31))"
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
if ! need wrk || ! need nginx; then
  echo "installing wrk and nginx from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light >/dev/null
fi
NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)

echo "building release binaries" >&2
(cd "$ROOT" && cargo build --release -q -p rollgate --bin rollgate && cargo build --release -q -p rollgate-edge --example upstream)
UPSTREAM_BIN="$ROOT/target/release/examples/upstream"
ROLLGATE_BIN="$ROOT/target/release/rollgate"

wait_port() { # host:port
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on $1" >&2
  return 1
}

"$UPSTREAM_BIN" v1 "$STABLE" "$UPSTREAM_THREADS" >"$OUT/v1.log" 2>&1 & PIDS+=($!)
"$UPSTREAM_BIN" v2 "$CANARY" "$UPSTREAM_THREADS" >"$OUT/v2.log" 2>&1 & PIDS+=($!)
wait_port "$STABLE"; wait_port "$CANARY"

fill() { # template listen admin device-rule
  sed -e "s|@WORKERS@|$WORKERS|g" -e "s|@DIR@|$OUT|g" -e "s|@STABLE@|$STABLE|g" \
    -e "s|@CANARY@|$CANARY|g" -e "s|@LISTEN@|$2|g" -e "s|@ADMIN@|${3:-}|g" -e "s|@DEVICE_RULE@|${4:-}|g" "$1"
}
mkdir -p "$OUT"/{client_body,proxy,fastcgi,uwsgi,scgi}
fill "$HERE/nginx.conf.in" "$NGINX" >"$OUT/nginx.conf"
fill "$HERE/rollgate.toml.in" "$EDGE" "$ADMIN" >"$OUT/rollgate.toml"
fill "$HERE/rollgate.toml.in" "$EDGE_UA" "$ADMIN_UA" '{ not = { device = ["bot"] } },' >"$OUT/rollgate-ua.toml"

"$NGINX_BIN" -c "$OUT/nginx.conf" -e "$OUT/nginx-error.log" >"$OUT/nginx.log" 2>&1 & PIDS+=($!)
"$ROLLGATE_BIN" --log warn edge --config "$OUT/rollgate.toml" >"$OUT/rollgate.log" 2>&1 & PIDS+=($!)
ROLLGATE_PID=$!
"$ROLLGATE_BIN" --log warn edge --config "$OUT/rollgate-ua.toml" >"$OUT/rollgate-ua.log" 2>&1 & PIDS+=($!)
ROLLGATE_UA_PID=$!
wait_port "$NGINX"; wait_port "$EDGE"; wait_port "$EDGE_UA"

cpu_ticks() { # pids… → user+system clock ticks of all of them
  local t=0 pid
  for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$t"
}

run() { # name url pids-to-charge…
  local name=$1 url=$2; shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$HERE/users.lua" "$url" >/dev/null
  local before line after
  before=$(cpu_ticks "$@")
  line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$HERE/users.lua" "$url" | grep '^RESULT')
  after=$(cpu_ticks "$@")
  # RESULT requests rps p50_ms p99_ms errors
  read -r _ requests rps p50 p99 errors <<<"$line"
  local us="-"
  if [ "$#" -gt 0 ]; then us=$(awk -v t=$((after - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }'); fi
  printf '%s %s %s %s %s %s %s\n' "$name" "$requests" "$rps" "$p50" "$p99" "$errors" "$us" >>"$OUT/results"
}

NGINX_WORKERS=$(pgrep -f "nginx: worker process" | tr '\n' ' ')
echo "measuring: $ROUNDS rounds of ${DURATION}s, $CONNECTIONS connections, $THREADS wrk thread(s), $WORKERS proxy worker(s)" >&2
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round" >&2
  run direct "http://$STABLE/"
  # shellcheck disable=SC2086
  run nginx "http://$NGINX/" $NGINX_WORKERS
  run rollgate "http://$EDGE/" "$ROLLGATE_PID"
  run rollgate+ua "http://$EDGE_UA/" "$ROLLGATE_UA_PID"
done

canary_share=$(curl -s "http://$ADMIN/metrics" | awk '
  /^rollgate_requests_total\{/ { n = $NF; if ($0 ~ /version="v2"/) c += n; t += n }
  END { if (t > 0) printf "%.1f%%", 100 * c / t; else print "n/a" }')

# Per target, the median of each column over the rounds (a shared machine makes single
# rounds noisy, tail latency most of all).
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }'; }
for name in direct nginx rollgate rollgate+ua; do
  rows=$(awk -v n="$name" '$1 == n' "$OUT/results")
  printf '%s %s' "$name" "$(echo "$rows" | awk '{print $2}' | median)"
  for col in 3 4 5 6 7; do printf ' %s' "$(echo "$rows" | awk -v c=$col '{print $c}' | median)"; done
  echo
done >"$OUT/median"

echo
printf '| %-11s | %12s | %9s | %9s | %7s | %16s |\n' target "requests/s" "p50 (ms)" "p99 (ms)" errors "proxy CPU/request"
printf '| %-11s | %12s | %9s | %9s | %7s | %16s |\n' --- ---: ---: ---: ---: ---:
while read -r name requests rps p50 p99 errors us; do
  [ "$us" = "-" ] || us="$us µs"
  printf '| %-11s | %12s | %9s | %9s | %7s | %16s |\n' "$name" "$rps" "$p50" "$p99" "$errors" "$us"
done <"$OUT/median"
awk '$1 == "nginx" { n = $3; np = $5; nc = $7 } $1 == "rollgate" { r = $3; rp = $5; rc = $7 }
  END { printf "\nrollgate/nginx: %.2fx requests/s, p99 %.3f ms vs %.3f ms, CPU per request %.2fx\n", r / n, rp, np, rc / nc }' "$OUT/median"
echo "every round:"
cat "$OUT/results"
echo "rollgate canary share (from its /metrics): $canary_share"
echo "logs and configs: $OUT"
