-- group-messages: the messages and recalls of a batch for one group, folded. O(senders +
-- seqs that do not count) whatever the group's size (no fan-out): the group's max seq is
-- raised to the highest seq, each sender's own record is advanced to the highest seq it
-- wrote (a member has read everything up to a message it wrote), and the seqs that do not
-- count (recalled, or sent with noUnread) join the group's set of them, whose size the
-- state hash's field 'nc' keeps (readers skip the ZCOUNT of groups without it).
--
-- The horizon H bounds the set: it holds only seqs above max - H. A seq at or below
-- max - H is never added, and once max is raised every seq at or below the new max - H
-- leaves the set (one ZREMRANGEBYSCORE, only when the set had any before: the new ones are
-- all above). So the set is {s uncounted : s > max - H}, a maximum and a set union of the
-- message topic alone: duplicates, redelivery, a recall before its message and any order
-- agree, and the caller may fold any run of a group's messages and recalls into one call
-- (docs/projections.md, "The horizon"). One HMGET reads what it needs, one HSET writes what
-- changed, one ZADD per 1000 seqs adds the seqs.
--
-- KEYS[1]  the group's state hash (fields: max, nc, type, name, state, m:<account> records)
-- KEYS[2]  the group's set of seqs that do not count (zset, score = member = seq)
-- ARGV[1]  the highest seq of the messages (decimal integer; 0 when the run has only recalls)
-- ARGV[2]  the horizon H (decimal integer >= 1)
-- ARGV[3]  the number n of senders
-- ARGV[4 .. 3 + n]  each sender's record field: 'm:' .. account
-- ARGV[4 + n .. 3 + 2n]  the highest seq each of them wrote, in the same order
-- ARGV[4 + 2n ..]  the seqs that do not count (recalled, or of messages sent with noUnread)
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts);
-- a missing or unreadable one is all zero.
-- Returns the number of seqs the horizon removed from the set.
local n = tonumber(ARGV[3])
-- at most 1000 fields per HMGET and HSET (unpack's stack bounds one call's arguments; a batch
-- of a large group may have thousands of senders)
local first = math.min(n, 1000)
local cur = redis.call('HMGET', KEYS[1], 'max', 'nc', unpack(ARGV, 4, 3 + first))
for s = 1001, n, 1000 do
  local last = math.min(s + 999, n)
  local part = redis.call('HMGET', KEYS[1], unpack(ARGV, 3 + s, 3 + last))
  for q = 1, #part do cur[s + 2 + q - 1] = part[q] end
end
local set, k = {}, 0
local max = tonumber(cur[1] or '0')
local raised = tonumber(ARGV[1]) > max
if raised then
  max = tonumber(ARGV[1])
  set[1], set[2], k = 'max', ARGV[1], 2
end
for i = 1, n do
  local v, seq = cur[i + 2], ARGV[3 + n + i]
  local m, j, a, s, f
  if v then m, j, a, s, f = string.match(v, '^([01]):(%d+):(%d+):(%d+)(:?%d*)$') end
  if not m then m, j, a, s, f = '0', '0', '0', '0', '' end
  if tonumber(seq) > tonumber(s) then
    set[k + 1], set[k + 2] = ARGV[3 + i], m .. ':' .. j .. ':' .. a .. ':' .. seq .. f
    k = k + 2
  end
end
for s = 1, k, 2000 do redis.call('HSET', KEYS[1], unpack(set, s, math.min(s + 1999, k))) end
-- seqs at or below floor are outside the horizon
local floor = max - tonumber(ARGV[2])
-- once max is raised, the seqs of the set at or below the floor leave it (the set had some
-- only if the 'nc' field was there before this call)
local pruned = 0
if raised and floor > 0 and cur[2] then pruned = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', floor) end
-- one ZADD per 1000 seqs (unpack's stack bounds one call's arguments; a batch may recall thousands)
local added = 0
local i = 4 + 2 * n
while i <= #ARGV do
  local zargs, q = {}, 0
  while i <= #ARGV and q < 2000 do
    if tonumber(ARGV[i]) > floor then
      zargs[q + 1], zargs[q + 2] = ARGV[i], ARGV[i]
      q = q + 2
    end
    i = i + 1
  end
  if q > 0 then added = added + redis.call('ZADD', KEYS[2], unpack(zargs)) end
end
local change = added - pruned
if change > 0 then
  redis.call('HINCRBY', KEYS[1], 'nc', change)
elseif change < 0 and redis.call('HINCRBY', KEYS[1], 'nc', change) <= 0 then
  redis.call('HDEL', KEYS[1], 'nc')
end
return pruned
