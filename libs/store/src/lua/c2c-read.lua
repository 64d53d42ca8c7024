-- c2c-read: the owner read everything from a peer up to a time. The read time only moves
-- forward; the unread ids at or before it leave the zset, and the per-peer count and the
-- total drop by exactly the number removed (fields at 0 are deleted, never negative).
--
-- KEYS[1]  zset of the owner's unread message ids from this peer, scored by time (ms)
-- KEYS[2]  hash peer → the owner's read time (ms) for that peer
-- KEYS[3]  hash peer → unread count from that peer, plus field '' → the owner's total
-- ARGV[1]  peer
-- ARGV[2]  read time (Unix ms): messages at or before it are read
--
-- Returns the number of messages that became read (0 for a stale or repeated ack).
local readTime = redis.call('HGET', KEYS[2], ARGV[1])
if readTime and tonumber(ARGV[2]) <= tonumber(readTime) then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local removed = redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if removed > 0 then
  if redis.call('HINCRBY', KEYS[3], ARGV[1], -removed) <= 0 then
    redis.call('HDEL', KEYS[3], ARGV[1])
  end
  if redis.call('HINCRBY', KEYS[3], '', -removed) <= 0 then
    redis.call('HDEL', KEYS[3], '')
  end
end
return removed
