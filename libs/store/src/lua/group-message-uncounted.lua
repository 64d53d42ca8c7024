-- group-message-uncounted: a group message sent with noUnread. The same two maxima as
-- group-message-sent.lua (the group's max seq, the sender's own seq: the seq advances like
-- any other), and the seq joins the group's set of seqs that do not count, as a recall does
-- (group-recall.lua), so it never counts for any member. O(1) whatever the group's size.
--
-- KEYS[1]  the group's state hash (fields: max, nc, type, name, state, m:<account> records)
-- KEYS[2]  the group's set of seqs that do not count (zset, score = member = seq)
-- ARGV[1]  seq of the message (decimal integer >= 1)
-- ARGV[2]  the sender's record field: 'm:' .. account
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts).
-- Returns 1.
--#include group-record

local seq = tonumber(ARGV[1])
if seq > tonumber(redis.call('HGET', KEYS[1], 'max') or '0') then
  redis.call('HSET', KEYS[1], 'max', ARGV[1])
end
local r = rec(redis.call('HGET', KEYS[1], ARGV[2]))
if seq > tonumber(r[4]) then
  r[4] = ARGV[1]
  redis.call('HSET', KEYS[1], ARGV[2], enc(r))
end
if redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'nc', 1)
end
return 1
