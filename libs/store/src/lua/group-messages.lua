-- group-messages: the messages and recalls of a batch for one group, folded. O(senders +
-- seqs that do not count) whatever the group's size (no fan-out): the group's max seq is
-- raised to the highest seq, each sender's own record is advanced to the highest seq it
-- wrote (a member has read everything up to a message it wrote), and the seqs that do not
-- count (recalled, or sent with noUnread) join the group's set of them, whose size the
-- state hash's field 'nc' keeps (readers skip the ZCOUNT of groups without it). All three
-- are maxima or set unions, so duplicates, redelivery, a recall before its message and any
-- order agree, and the caller may fold any run of a group's messages and recalls into one
-- call. One HMGET reads what it needs, one HSET writes what changed, one ZADD per 1000 seqs
-- adds the seqs.
--
-- KEYS[1]  the group's state hash (fields: max, nc, type, name, state, m:<account> records)
-- KEYS[2]  the group's set of seqs that do not count (zset, score = member = seq)
-- ARGV[1]  the highest seq of the messages (decimal integer; 0 when the run has only recalls)
-- ARGV[2]  the number n of senders
-- ARGV[3 .. 2 + n]  each sender's record field: 'm:' .. account
-- ARGV[3 + n .. 2 + 2n]  the highest seq each of them wrote, in the same order
-- ARGV[3 + 2n ..]  the seqs that do not count (recalled, or of messages sent with noUnread)
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts);
-- a missing or unreadable one is all zero.
-- Returns the number of seqs that were new in the set.
local n = tonumber(ARGV[2])
-- at most 1000 fields per HMGET and HSET (unpack's stack bounds one call's arguments; a batch
-- of a large group may have thousands of senders)
local first = math.min(n, 1000)
local cur = redis.call('HMGET', KEYS[1], 'max', unpack(ARGV, 3, 2 + first))
for s = 1001, n, 1000 do
  local last = math.min(s + 999, n)
  local part = redis.call('HMGET', KEYS[1], unpack(ARGV, 2 + s, 2 + last))
  for q = 1, #part do cur[s + q] = part[q] end
end
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
for s = 1, k, 2000 do redis.call('HSET', KEYS[1], unpack(set, s, math.min(s + 1999, k))) end
-- one ZADD per 1000 seqs (unpack's stack bounds one call's arguments; a batch may recall thousands)
local added = 0
local i = 3 + 2 * n
while i <= #ARGV do
  local zargs, q = {}, 0
  while i <= #ARGV and q < 2000 do
    zargs[q + 1], zargs[q + 2] = ARGV[i], ARGV[i]
    q = q + 2
    i = i + 1
  end
  added = added + redis.call('ZADD', KEYS[2], unpack(zargs))
end
if added > 0 then redis.call('HINCRBY', KEYS[1], 'nc', added) end
return added
