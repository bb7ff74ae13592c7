#!/usr/bin/env bash
# Proxy benchmark: the same two upstreams measured directly, behind nginx (split_clients,
# 10% split) and behind `rollgate edge` (10% canary rollout, audience rules, telemetry on).
# Prints requests/s and p50/p99 latency for each, and the ratio rollgate/nginx.
#
#   bench/proxy.sh                      # defaults below
#   WORKERS=2 DURATION=20 bench/proxy.sh
#
# Everything listens on 127.0.0.1; every process this script starts is stopped by PID.
set -euo pipefail

WORKERS=${WORKERS:-1}          # nginx worker_processes = rollgate worker threads
CONNECTIONS=${CONNECTIONS:-64} # wrk keep-alive connections
THREADS=${THREADS:-1}          # wrk threads
DURATION=${DURATION:-10}       # seconds measured, after a warm-up of WARMUP seconds
WARMUP=${WARMUP:-3}
UPSTREAM_THREADS=${UPSTREAM_THREADS:-1}
BASE_PORT=${BASE_PORT:-18080}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE="$ROOT/bench/proxy"
OUT=$(mktemp -d /tmp/rollgate-bench.XXXXXX)
STABLE="127.0.0.1:$((BASE_PORT + 1))"
CANARY="127.0.0.1:$((BASE_PORT + 2))"
NGINX="127.0.0.1:$((BASE_PORT + 10))"
EDGE="127.0.0.1:$((BASE_PORT + 20))"
ADMIN="127.0.0.1:$((BASE_PORT + 21))"
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

fill() { sed -e "s|@WORKERS@|$WORKERS|g" -e "s|@DIR@|$OUT|g" -e "s|@STABLE@|$STABLE|g" \
  -e "s|@CANARY@|$CANARY|g" -e "s|@LISTEN@|$2|g" -e "s|@ADMIN@|$ADMIN|g" "$1"; }
mkdir -p "$OUT"/{client_body,proxy,fastcgi,uwsgi,scgi}
fill "$HERE/nginx.conf.in" "$NGINX" >"$OUT/nginx.conf"
fill "$HERE/rollgate.toml.in" "$EDGE" >"$OUT/rollgate.toml"

"$NGINX_BIN" -c "$OUT/nginx.conf" -e "$OUT/nginx-error.log" >"$OUT/nginx.log" 2>&1 & PIDS+=($!)
"$ROLLGATE_BIN" --log warn edge --config "$OUT/rollgate.toml" >"$OUT/rollgate.log" 2>&1 & PIDS+=($!)
wait_port "$NGINX"; wait_port "$EDGE"

run() { # name url
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$HERE/users.lua" "$2" >/dev/null
  local line
  line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$HERE/users.lua" "$2" | grep '^RESULT')
  # RESULT requests rps p50_ms p99_ms errors
  read -r _ requests rps p50 p99 errors <<<"$line"
  printf '%s %s %s %s %s %s\n' "$1" "$requests" "$rps" "$p50" "$p99" "$errors" >>"$OUT/results"
}

echo "measuring: ${DURATION}s each, $CONNECTIONS connections, $THREADS wrk thread(s), $WORKERS proxy worker(s)" >&2
run direct "http://$STABLE/"
run nginx "http://$NGINX/"
run rollgate "http://$EDGE/"

canary_share=$(curl -s "http://$ADMIN/metrics" | awk '
  /^rollgate_requests_total\{/ { n = $NF; if ($0 ~ /version="v2"/) c += n; t += n }
  END { if (t > 0) printf "%.1f%%", 100 * c / t; else print "n/a" }')

echo
printf '| %-9s | %12s | %9s | %9s | %7s |\n' target "requests/s" "p50 (ms)" "p99 (ms)" errors
printf '| %-9s | %12s | %9s | %9s | %7s |\n' --- ---: ---: ---: ---:
while read -r name requests rps p50 p99 errors; do
  printf '| %-9s | %12s | %9s | %9s | %7s |\n' "$name" "$rps" "$p50" "$p99" "$errors"
done <"$OUT/results"
awk '$1 == "nginx" { n = $3; np = $5 } $1 == "rollgate" { r = $3; rp = $5 }
  END { printf "\nrollgate/nginx: %.2fx requests/s, p99 %.3f ms vs %.3f ms\n", r / n, rp, np }' "$OUT/results"
echo "rollgate canary share (from its /metrics): $canary_share"
echo "logs and configs: $OUT"
