-- group-read-ack: a member read up to a seq. The ack component of the member's record is a
-- maximum, so duplicates and redelivery change nothing.
--
-- KEYS[1]  the group's state hash
-- ARGV[1]  the member's record field: 'm:' .. account
-- ARGV[2]  readSeq (decimal integer >= 0)
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts).
-- Returns 1.
--#include group-record

local r = rec(redis.call('HGET', KEYS[1], ARGV[1]))
if tonumber(ARGV[2]) > tonumber(r[3]) then
  r[3] = ARGV[2]
  redis.call('HSET', KEYS[1], ARGV[1], enc(r))
end
return 1
