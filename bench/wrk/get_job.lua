-- GET /v1/jobs/{id}. BENCH_KEY and BENCH_JOB come from the environment; BENCH_RATE
-- (optional) paces each wrk thread to that many requests per second.
dofile("bench/wrk/pace.lua")
wrk.method = "GET"
wrk.path = "/v1/jobs/" .. os.getenv("BENCH_JOB")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")
function response(status, headers, body)
  if status ~= 200 then io.stderr:write("unexpected status " .. status .. "\n") end
end
