-- feed-version: the change feed's next version of one account (apps/projector/src/change-feed.ts).
-- The version grows by at least one on every call, and is at least this Redis's clock in
-- Unix ms, so after a failover that lost the last increments (an asynchronous replica
-- promoted) the next version is still above every version produced before, unless the
-- account had more than one change per millisecond on average.
--
-- KEYS[1]  the account's version (string holding an integer; Keyspace feedVersionKey)
--
-- Returns the new version.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local step = now - current
if step < 1 then
  step = 1
end
return redis.call('INCRBY', KEYS[1], step)
