-- group-unread-set: admin override (set_unread_msg_num). REPLACES the ack component of the
-- member's record with readSeq (the gateway computed it as max(0, maxSeq - N)). Read acks
-- share its topic and key, so the ack component folds them in log order on every replay.
--
-- KEYS[1]  the group's state hash
-- ARGV[1]  the member's record field: 'm:' .. account
-- ARGV[2]  readSeq (decimal integer >= 0)
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>" (see group.store.ts).
-- Returns 1.
local function rec(v)
  if v then
    local m, j, a, s = string.match(v, '^([01]):(%d+):(%d+):(%d+)$')
    if m then return { m, j, a, s } end
  end
  return { '0', '0', '0', '0' }
end

local r = rec(redis.call('HGET', KEYS[1], ARGV[1]))
r[3] = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], table.concat(r, ':'))
return 1
