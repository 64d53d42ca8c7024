-- group-messages: the messages of a batch for one group, folded. O(senders) whatever the
-- group's size (no fan-out): the group's max seq is raised to the highest seq, and each
-- sender's own record is advanced to the highest seq it wrote (a member has read
-- everything up to a message it wrote). Both are maxima, so duplicates, redelivery and any
-- order agree, and the caller may fold any run of a group's messages into one call.
--
-- KEYS[1]  the group's state hash (fields: max, type, name, state, m:<account> records)
-- ARGV[1]  the highest seq of the messages (decimal integer >= 1)
-- ARGV[2i], ARGV[2i + 1]  per sender: its record field ('m:' .. account), the highest seq
--          of its messages
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts);
-- a missing or unreadable one is all zero.
-- Returns 1.
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'max') or '0') then
  redis.call('HSET', KEYS[1], 'max', ARGV[1])
end
for i = 2, #ARGV, 2 do
  local v = redis.call('HGET', KEYS[1], ARGV[i])
  local m, j, a, s, f
  if v then m, j, a, s, f = string.match(v, '^([01]):(%d+):(%d+):(%d+)(:?%d*)$') end
  if not m then m, j, a, s, f = '0', '0', '0', '0', '' end
  if tonumber(ARGV[i + 1]) > tonumber(s) then
    redis.call('HSET', KEYS[1], ARGV[i], m .. ':' .. j .. ':' .. a .. ':' .. ARGV[i + 1] .. f)
  end
end
return 1
