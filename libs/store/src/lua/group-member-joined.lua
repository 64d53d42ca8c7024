-- group-member-joined: marks the account a member and raises its join component to the
-- join's seq (or, when the event has none, the group's max seq as projected now), so the
-- history before the join is not unread. Answers the group's type, from which the caller
-- writes the account's index entry (its score is the type's class, group.store.ts).
--
-- KEYS[1]  the group's state hash
-- ARGV[1]  the member's record field: 'm:' .. account
-- ARGV[2]  the join's seq (decimal integer >= 0), or '' when the event carries none
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts).
-- Returns the group's type while the group exists (created and not dismissed), else ''.
--#include group-record

local seq = ARGV[2]
if seq == '' then
  seq = redis.call('HGET', KEYS[1], 'max') or '0'
end
local r = rec(redis.call('HGET', KEYS[1], ARGV[1]))
r[1] = '1'
if tonumber(seq) > tonumber(r[2]) then
  r[2] = seq
end
redis.call('HSET', KEYS[1], ARGV[1], enc(r))
local meta = redis.call('HMGET', KEYS[1], 'state', 'type')
if meta[1] == '1' and meta[2] then
  return meta[2]
end
return ''
