-- wrk script for `kiemdich bench declare|scans` (crates/cli/src/bench_load.rs writes it next to the bodies).
-- Usage: wrk -t2 -c64 -d10s -s post.lua URL -- BODIES_FILE BEARER_TOKEN
--        wrk -t2 -c64 -d10s -s post.lua URL      (no arguments: GETs the URL, the HTTP ceiling's anchor)
-- POSTs the lines of BODIES_FILE in turn, each thread starting at its own line; "@KEY@" in a line becomes a key
-- unique to the run (thread and request number), so every scan is a new one. Prints one JSON line at the end.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  if #args == 0 then
    return
  end
  bodies = {}
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  counter = id * 7919
end

function request()
  if bodies == nil then
    return wrk.format("GET")
  end
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]:gsub("@KEY@", "wrk-" .. id .. "-" .. counter)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
