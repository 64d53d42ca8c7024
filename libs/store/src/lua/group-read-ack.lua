-- group-read-ack: a member read up to a seq. The ack component of the member's record is a
-- maximum, so duplicates and redelivery change nothing.
--
-- KEYS[1]  the group's state hash
-- ARGV[1]  the member's record field: 'm:' .. account
-- ARGV[2]  readSeq (decimal integer >= 0)
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts).
-- Returns 1.
local function rec(v)
  if v then
    local m, j, a, s, f = string.match(v, '^([01]):(%d+):(%d+):(%d+):?(%d*)$')
    if m then return { m, j, a, s, f } end
  end
  return { '0', '0', '0', '0', '' }
end

local function enc(r)
  if r[5] == '' then return r[1] .. ':' .. r[2] .. ':' .. r[3] .. ':' .. r[4] end
  return r[1] .. ':' .. r[2] .. ':' .. r[3] .. ':' .. r[4] .. ':' .. r[5]
end

local r = rec(redis.call('HGET', KEYS[1], ARGV[1]))
if tonumber(ARGV[2]) > tonumber(r[3]) then
  r[3] = ARGV[2]
  redis.call('HSET', KEYS[1], ARGV[1], enc(r))
end
return 1
