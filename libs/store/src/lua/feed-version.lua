-- feed-version: the change feed's next version of each account given (apps/projector/src/change-feed.ts).
-- A version grows by at least one on every call, and is at least this Redis's clock in
-- Unix ms, so after a failover that lost the last increments (an asynchronous replica
-- promoted) the next version is still above every version produced before, unless the
-- account had more than one change per millisecond on average.
--
-- KEYS[i]  an account's version (string holding an integer; Keyspace feedVersionKey); on a
--          Redis Cluster the keys of one call share a slot (FeedVersions groups them)
--
-- Returns the new versions, in KEYS order.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  local step = now - current
  if step < 1 then
    step = 1
  end
  out[i] = redis.call('INCRBY', KEYS[i], step)
end
return out
