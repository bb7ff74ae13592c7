-- wrk script: every request is a new user (X-User-Id u<thread>-<n>), from a desktop browser,
-- so both proxies bucket distinct units and rollgate's audience rules let them in.
local thread_ids = 0

function setup(thread)
  thread:set("tid", thread_ids)
  thread_ids = thread_ids + 1
end

local n = 0
local ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

function request()
  n = n + 1
  return wrk.format("GET", "/", { ["X-User-Id"] = "u" .. tid .. "-" .. n, ["User-Agent"] = ua })
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %d %.0f %.3f %.3f %d\n", summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, bad))
end
