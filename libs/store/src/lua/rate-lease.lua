-- rate-lease: grants a gateway replica a block of calls (a lease) from the current window of a
-- (tenant, API) limit, shared by every replica. The replica spends the lease locally, so a
-- call costs no Redis command until its lease is used up (docs/performance.md, rate limits).
-- Windows are one second of the Redis server's clock (TIME), so replicas with skewed clocks
-- still count into the same window; the sum of the grants of one window never passes the
-- limit. Once a lease request finds the window used up, a block period starts when one is
-- configured (QChat blocks a caller for 10 s). Every key is declared (the window is a field
-- of KEYS[1], not part of a key name), so the script runs on Redis Cluster as on one Redis.
--
-- KEYS[1]  the window counter: hash <prefix>:rl:{family:app:api} with w = the window (Redis
--          seconds) and n = calls granted in it; it expires 2 s after its last grant
-- KEYS[2]  block marker (string; set with PX = block ms when the limit is reached)
-- ARGV[1]  limit: calls allowed per window
-- ARGV[2]  lease size wanted
-- ARGV[3]  block length in ms (0 = no block: only the rest of the window is refused)
--
-- Returns { granted calls (0 = refused), ms until the window (or the block) ends }.
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blockLeft = redis.call('PTTL', KEYS[2])
if blockLeft > 0 then
  return { 0, blockLeft }
end
local window = math.floor(nowMs / 1000)
local left = (window + 1) * 1000 - nowMs
local limit = tonumber(ARGV[1])
local held = redis.call('HMGET', KEYS[1], 'w', 'n')
local used = 0
if tonumber(held[1]) == window then used = tonumber(held[2]) or 0 end
local grant = math.min(tonumber(ARGV[2]), limit - used)
if grant <= 0 then
  local block = tonumber(ARGV[3])
  if block > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block)
    return { 0, block }
  end
  return { 0, left }
end
redis.call('HSET', KEYS[1], 'w', window, 'n', used + grant)
redis.call('PEXPIRE', KEYS[1], 2000)
return { grant, left }
