-- POST /v1/jobs with a scrape job. ACE_KEY and ACE_TARGET come from the environment;
-- ACE_DELAY_MS (optional) paces each connection to one request per that many ms.
wrk.method = "POST"
wrk.path = "/v1/jobs"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("ACE_KEY")
wrk.body = '{"kind":"scrape","url":"' .. os.getenv("ACE_TARGET") .. '"}'
local pace = tonumber(os.getenv("ACE_DELAY_MS") or "0")
function delay() return pace end
function response(status, headers, body)
  if status ~= 202 then io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n") end
end
