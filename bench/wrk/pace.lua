-- Constant-rate pacing for wrk (which has none of its own): BENCH_RATE is the requests per
-- second each wrk thread offers, whatever the latency. Every request gets a slot on a fixed
-- schedule (start + k / rate); delay() waits until the next slot, or not at all when the
-- thread is behind, so slow answers do not lower the offered load the way a fixed delay
-- between answer and next request would. Without BENCH_RATE requests go back to back.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local interval = rate > 0 and 1000 / rate or 0
local start, slot = nil, 0

function delay()
  if interval == 0 then return 0 end
  local now = now_ms()
  start = start or now
  slot = slot + 1
  local wait = start + slot * interval - now
  if wait < 0 then return 0 end
  return math.floor(wait)
end
