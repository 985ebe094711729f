-- POST /v1/jobs with a scrape job. BENCH_KEY and BENCH_TARGET come from the environment;
-- BENCH_RATE (optional) paces each wrk thread to that many requests per second.
dofile("bench/wrk/pace.lua")
wrk.method = "POST"
wrk.path = "/v1/jobs"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
wrk.body = '{"kind":"scrape","url":"' .. os.getenv("BENCH_TARGET") .. '"}'
function response(status, headers, body)
  if status ~= 202 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
end
