-- group-member-left: the account stops being a member. The seq components stay (a read ack
-- or own message of the same member may still be on its way on another topic; a later
-- re-join's seq is above all of them), so only the member flag changes.
--
-- KEYS[1]  the group's state hash
-- ARGV[1]  the member's record field: 'm:' .. account
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts).
-- Returns 1.
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  local m, rest = string.match(v, '^([01])(:%d+:%d+:%d+:?%d*)$')
  if m == '1' then
    redis.call('HSET', KEYS[1], ARGV[1], '0' .. rest)
  end
end
return 1
