-- group-message-sent: one group message. O(1) whatever the group's size (no fan-out): the
-- group's max seq is raised, and the sender's own record is advanced (a member has read
-- everything up to a message it wrote). Both are maxima, so duplicates and any order agree.
--
-- KEYS[1]  the group's state hash (fields: max, type, name, state, m:<account> records)
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
return 1
