-- c2c-message: a one-to-one message from a peer to the owner becomes unread for the owner,
-- unless the owner already read that peer up to (or past) its time, or it is a duplicate.
-- The zset, the per-peer count and the owner's total move together.
--
-- KEYS[1]  zset of the owner's unread message ids from this peer, scored by time (ms)
-- KEYS[2]  hash peer → the owner's read time (ms) for that peer
-- KEYS[3]  hash peer → unread count from that peer, plus field '' → the owner's total
-- KEYS[4]  zset of the owner's tombstones (c2c-recall.lua): a recalled message never counts
-- ARGV[1]  peer (the sender)
-- ARGV[2]  message id
-- ARGV[3]  message time (Unix ms)
--
-- Returns 1 when the message was counted, 0 when it was already read, recalled or already counted.
local readTime = redis.call('HGET', KEYS[2], ARGV[1])
if readTime and tonumber(ARGV[3]) <= tonumber(readTime) then
  return 0
end
-- Recalled (the recall applied first, or this is a redelivery after it): never counts.
if redis.call('ZSCORE', KEYS[4], ARGV[1] .. '\n' .. ARGV[2]) then
  return 0
end
if redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[2]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[3], ARGV[1], 1)
redis.call('HINCRBY', KEYS[3], '', 1)
return 1
