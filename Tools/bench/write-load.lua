-- wrk script of Tools/bench/write-load: each request one problem.reported with an id and subject of its
-- own (thread, count, run), posted by the account whose token is in $CIVIC_TOKEN. Beside the requests'
-- latency it reports the median of the durable commits' own time, as each answer's Server-Timing says.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  n = 0
  run = os.getenv("CIVIC_RUN") or "0"
  wrk.method = "POST"
  wrk.path = "/api/events"
  wrk.headers["Content-Type"] = "application/x-ndjson"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("CIVIC_TOKEN")
  commits = {}
end

function request()
  n = n + 1
  local id = "load-" .. run .. "-" .. tid .. "-" .. n
  local body = '{"specversion":"1.0","id":"' .. id .. '","source":"/load","type":"problem.reported","subject":"P-' .. id ..
    '","time":"2026-01-01T09:00:00+08:00","data":{"source":"inspection","category":"sanitation","description":"负载测试",' ..
    '"location":{"area":"恒口"}}}'
  return wrk.format(nil, nil, nil, body)
end

-- Only when asked (the lone request's run): reading every answer in Lua costs wrk, which shares the
-- server's two cores, about a tenth of them under 64 clients. wrk counts answers other than 2xx itself.
if os.getenv("CIVIC_TIMING") == "1" then
  function response(status, headers, body)
    local timing = headers["Server-Timing"] or headers["server-timing"]
    local ms = timing and tonumber(string.match(timing, "commit;dur=([%d.]+)"))
    if ms then table.insert(commits, ms) end
  end
end

function done(summary, latency, requests)
  local all = {}
  for _, thread in ipairs(threads) do
    for _, ms in ipairs(thread:get("commits") or {}) do table.insert(all, ms) end
  end
  table.sort(all)
  local timing = ""
  if #all > 0 then
    timing = string.format(" commit_p50_ms %.3f commit_max_ms %.1f", all[math.max(1, math.floor(#all / 2))], all[#all])
  end
  io.write(string.format("requests %d errors %d non200 %d seconds %.2f rps %.0f p50_ms %.2f p99_ms %.2f p999_ms %.2f max_ms %.1f%s\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000, latency.max / 1000, timing))
end
