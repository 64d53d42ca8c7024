-- group-messages: the messages of a batch for one group, folded. O(senders) whatever the
-- group's size (no fan-out): the group's max seq is raised to the highest seq, and each
-- sender's own record is advanced to the highest seq it wrote (a member has read
-- everything up to a message it wrote). Both are maxima, so duplicates, redelivery and any
-- order agree, and the caller may fold any run of a group's messages into one call. One
-- HMGET reads what it needs, one HSET writes what changed.
--
-- KEYS[1]  the group's state hash (fields: max, type, name, state, m:<account> records)
-- ARGV[1]  the highest seq of the messages (decimal integer >= 1)
-- ARGV[2]  the number n of senders
-- ARGV[3 .. 2 + n]  each sender's record field: 'm:' .. account
-- ARGV[3 + n .. 2 + 2n]  the highest seq each of them wrote, in the same order
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts);
-- a missing or unreadable one is all zero.
-- Returns 1.
local n = tonumber(ARGV[2])
local cur = redis.call('HMGET', KEYS[1], 'max', unpack(ARGV, 3, 2 + n))
local set, k = {}, 0
if tonumber(ARGV[1]) > tonumber(cur[1] or '0') then
  set[1], set[2], k = 'max', ARGV[1], 2
end
for i = 1, n do
  local v, seq = cur[i + 1], ARGV[2 + n + i]
  local m, j, a, s, f
  if v then m, j, a, s, f = string.match(v, '^([01]):(%d+):(%d+):(%d+)(:?%d*)$') end
  if not m then m, j, a, s, f = '0', '0', '0', '0', '' end
  if tonumber(seq) > tonumber(s) then
    set[k + 1], set[k + 2] = ARGV[2 + i], m .. ':' .. j .. ':' .. a .. ':' .. seq .. f
    k = k + 2
  end
end
if k > 0 then redis.call('HSET', KEYS[1], unpack(set)) end
return 1
