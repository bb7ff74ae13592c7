#!/usr/bin/env bash
# Event ingest benchmark: `rollgate serve` (release build) takes batches of client events on
# `POST /v1/events` from wrk (keep-alive connections, each batch from distinct units, with the
# ingest key), for each batch size in BATCHES. Prints requests/s, events/s and latency per
# batch size, and checks that the server counted every event it acknowledged (the
# conversions in the rollout's windows equal the events wrk got 200 for).
#
#   bench/ingest.sh                          # defaults below
#   BATCHES="1 50" DURATION=20 bench/ingest.sh
#
# Everything listens on 127.0.0.1 (the API on a free port); every process this script starts is
# stopped by PID.
set -euo pipefail

BATCHES=${BATCHES:-"1 10 100"}   # events per request
CONNECTIONS=${CONNECTIONS:-32}   # wrk keep-alive connections
THREADS=${THREADS:-1}            # wrk threads
DURATION=${DURATION:-10}         # seconds measured per batch size
WORKERS=${WORKERS:-1}            # rollgate worker threads

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(mktemp -d /tmp/rollgate-ingest.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

echo "building the release binary" >&2
(cd "$ROOT" && cargo build --release -q -p rollgate --bin rollgate)
ROLLGATE="$ROOT/target/release/rollgate"

cat >"$OUT/rollgate.toml" <<TOML
[edge]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"

[control]
window = "1s"
retention = "15m"
max_event_batch_events = 1000
ingest_key_env = "ROLLGATE_BENCH_INGEST_KEY"

[[services]]
name = "shop"

[[services.versions]]
name = "v1"
endpoints = ["127.0.0.1:9"]

[[services.versions]]
name = "v2"
endpoints = ["127.0.0.1:9"]

[[metrics]]
name = "conversion_rate"
ratio = { numerator = "conversion", denominator = "exposure" }

[[rollouts]]
name = "shop-v2"
service = "shop"
stable = "v1"
canary = "v2"
weight = "50%"
TOML

# wrk: each request is a batch of $BATCH conversions from new units (u<thread>-<n>).
cat >"$OUT/events.lua" <<'LUA'
local thread_ids = 0
function setup(thread)
  thread:set("tid", thread_ids)
  thread_ids = thread_ids + 1
end
local n = 0
local batch = tonumber(os.getenv("BATCH") or "10")
local key = os.getenv("INGEST_KEY")
function request()
  local parts = {}
  for i = 1, batch do
    n = n + 1
    parts[i] = '{"unit":"u' .. tid .. '-' .. n .. '","name":"conversion"}'
  end
  local body = '{"events":[' .. table.concat(parts, ",") .. ']}'
  return wrk.format("POST", "/v1/events",
    { ["Content-Type"] = "application/json", ["X-Rollgate-Ingest-Key"] = key }, body)
end
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %.0f %.3f %.3f %d\n", summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
LUA

export ROLLGATE_BENCH_INGEST_KEY="bench-$(date +%s%N)"
TOKEN=$("$ROLLGATE" token create --name bench --role viewer --data-dir "$OUT/data" 2>/dev/null)
"$ROLLGATE" --log warn serve --config "$OUT/rollgate.toml" --data-dir "$OUT/data" \
  --api-listen 127.0.0.1:0 --workers "$WORKERS" --ready-file "$OUT/ready.json" >"$OUT/serve.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$OUT/ready.json" ] && break; sleep 0.05; done
API=$(sed -e 's/.*"api":"\([^"]*\)".*/\1/' "$OUT/ready.json")
[ -n "$API" ] || { echo "rollgate serve did not start; see $OUT/serve.log" >&2; exit 1; }

conversions() { # every conversion counted in the windows so far
  curl -s -H "Authorization: Bearer $TOKEN" \
    "http://$API/api/v1/rollouts/shop-v2/metrics?from=$(( $(date +%s) * 1000 - 900000 ))" |
    python3 -c 'import json,sys; m=json.load(sys.stdin)["cohorts"]; print(int(sum((c["metrics"].get("conversion",{}).get("value") or 0) for c in m.values())))'
}

echo "measuring: ${DURATION}s per batch size, $CONNECTIONS connections, $THREADS wrk thread(s), $WORKERS rollgate worker(s)" >&2
printf '%-6s %10s %12s %12s %9s %9s %7s %12s\n' batch requests requests/s events/s p50_ms p99_ms errors counted
for batch in $BATCHES; do
  before=$(conversions)
  line=$(BATCH=$batch INGEST_KEY=$ROLLGATE_BENCH_INGEST_KEY \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$OUT/events.lua" "http://$API/v1/events" | grep '^RESULT')
  read -r _ requests rps p50 p99 errors <<<"$line"
  sleep 2.5 # the last windows close
  counted=$(( $(conversions) - before ))
  sent=$(( (requests - errors) * batch ))
  printf '%-6s %10s %12s %12s %9s %9s %7s %12s\n' "$batch" "$requests" "$rps" "$((rps * batch))" "$p50" "$p99" "$errors" "$counted"
  # wrk stops with requests in flight: the server may count a few batches wrk never saw answered.
  if [ "$counted" -lt "$sent" ]; then
    echo "  LOST EVENTS: $sent acknowledged, only $counted counted" >&2
    exit 1
  fi
done
