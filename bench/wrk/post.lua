-- POST load for bench/http.py. Environment:
--   BENCH_BODY      JSON body of every request
--   BENCH_TOKEN     bearer token (optional)
--   BENCH_IDS       file of work item ids, one a line: request i goes to BENCH_PATH with {id} replaced
--   BENCH_PATH      path template when BENCH_IDS is set (e.g. /api/v1/work-items/{id}/complete)
--   BENCH_THREADS   wrk's -t (how the ids are shared out between threads)
--   BENCH_LIMIT     stop a thread after this many requests (optional)
-- done() prints one JSON line: requests, duration_us, errors, non_2xx, latency percentiles (us).

local thread_index = 0
local threads = {}

function setup(thread)
  thread:set("index", thread_index)
  thread_index = thread_index + 1
  table.insert(threads, thread)
end

local headers = {["Content-Type"] = "application/json"}
local body = os.getenv("BENCH_BODY") or "{}"
local ids = nil
local next_id = 1
local sent = 0
local limit = tonumber(os.getenv("BENCH_LIMIT") or "")
local path_template = os.getenv("BENCH_PATH")
non_2xx = 0

function init(args)
  local token = os.getenv("BENCH_TOKEN")
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  local file = os.getenv("BENCH_IDS")
  if file and file ~= "" then
    local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
    ids = {}
    local n = 0
    for line in io.lines(file) do
      if n % nthreads == index then
        table.insert(ids, line)
      end
      n = n + 1
    end
  end
end

function request()
  sent = sent + 1
  if (limit and sent > limit) or (ids and next_id > #ids) then
    wrk.thread:stop()
    return wrk.format("GET", "/health/live")
  end
  if ids then
    local path = string.gsub(path_template, "{id}", ids[next_id])
    next_id = next_id + 1
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("POST", nil, headers, body)
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non_2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '\nBENCH_JSON {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, bad,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
