-- rate-limit: fixed one-second window per (tenant, API), shared by every gateway replica,
-- with an optional block period once the limit is passed (QChat blocks callers for 10 s).
--
-- KEYS[1]  counter of the current window (string; expires with the window)
-- KEYS[2]  block marker (string; set with PX = block ms when the limit is passed)
-- ARGV[1]  limit: calls allowed per window
-- ARGV[2]  window length in ms
-- ARGV[3]  block length in ms (0 = no block: only the rest of the window is refused)
--
-- Returns 1 when the call is allowed, 0 when it is refused.
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if n > tonumber(ARGV[1]) then
  local block = tonumber(ARGV[3])
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
  end
  return 0
end
return 1
