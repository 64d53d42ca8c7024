-- c2c-recall: a one-to-one message was recalled. It stops counting for its recipient (the
-- owner) whatever the order: if it is counted now, it leaves the unread zset and the
-- per-peer count and the total drop by one; either way a tombstone is kept, so the message
-- applied (or re-applied) later never counts (c2c-message.lua checks it). A recall of a
-- message at or before the owner's read time changes nothing and needs no tombstone: such
-- a message never counts (the read time only moves forward).
--
-- KEYS[1]  zset of the owner's unread message ids from this peer, scored by time (ms)
-- KEYS[2]  hash peer → the owner's read time (ms) for that peer
-- KEYS[3]  hash peer → unread count from that peer, plus field '' → the owner's total
-- KEYS[4]  zset of the owner's tombstones: '<peer>\n<message id>' scored by message time
-- ARGV[1]  peer (the sender)
-- ARGV[2]  message id
-- ARGV[3]  message time (Unix ms)
--
-- Returns 1 when a counted message stopped counting, 0 otherwise.
local readTime = redis.call('HGET', KEYS[2], ARGV[1])
if readTime and tonumber(ARGV[3]) <= tonumber(readTime) then
  return 0
end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1] .. '\n' .. ARGV[2])
if redis.call('ZREM', KEYS[1], ARGV[2]) == 0 then
  return 0
end
if redis.call('HINCRBY', KEYS[3], ARGV[1], -1) <= 0 then
  redis.call('HDEL', KEYS[3], ARGV[1])
end
if redis.call('HINCRBY', KEYS[3], '', -1) <= 0 then
  redis.call('HDEL', KEYS[3], '')
end
return 1
