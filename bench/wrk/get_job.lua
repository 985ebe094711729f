-- GET /v1/jobs/{id}. ACE_KEY and ACE_JOB come from the environment; ACE_DELAY_MS paces.
wrk.method = "GET"
wrk.path = "/v1/jobs/" .. os.getenv("ACE_JOB")
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ACE_KEY")
local pace = tonumber(os.getenv("ACE_DELAY_MS") or "0")
function delay() return pace end
function response(status, headers, body)
  if status ~= 200 then io.stderr:write("unexpected status " .. status .. "\n") end
end
