-- channel-ack: advances accounts' ack times in one QChat channel (read-ack scope channel, and
-- the sender's own message-sent scope channel), every ack of a batch for the channel in one
-- call. An ack time is a max (ZADD GT, also between the acks of one call), so redelivery and
-- any interleaving with other topics give the same result.
--
-- An ack older than the retention is the same as no ack (the query never looks below
-- now - retention), so such acks are not stored, and stored ones that fell out of it are
-- pruned whenever a call adds an account; the key expires with its newest ack.
--
-- KEYS[1]  <base>:ack  zset  account -> ack time
-- ARGV[1]  now (ms)
-- ARGV[2]  retention (ms)
-- ARGV[2i + 1], ARGV[2i + 2]  per ack: its time (ms: that message and every earlier one is
--          read), the account
--
-- Returns the number of acks stored (or already at least that high); the others were
-- outside the retention.
local retention = tonumber(ARGV[2])
local cutoff = tonumber(ARGV[1]) - retention
local function int(n)
  return string.format('%d', n)
end
local kept, m, newest = {}, 0, nil
for i = 3, #ARGV, 2 do
  local t = tonumber(ARGV[i])
  if t >= cutoff then
    kept[m + 1] = ARGV[i]
    kept[m + 2] = ARGV[i + 1]
    m = m + 2
    if not newest or t > newest then newest = t end
  end
end
if m == 0 then return 0 end
-- at most 1000 pairs per ZADD (unpack's stack bounds one call's arguments; a batch may hold thousands)
local added = 0
for s = 1, m, 2000 do added = added + redis.call('ZADD', KEYS[1], 'GT', unpack(kept, s, math.min(s + 1999, m))) end
-- pruned only when it grew: a set that did not grow holds no more expired entries than a
-- pruned one would gain (expired entries are ignored anyway); this saves a command per call
if added > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. int(cutoff)) end
-- never shortened: GT moves a later expiry, NX sets the first one (a key without one was
-- created by this ZADD, so only a call that added a member can need it)
local at = int(newest + retention)
if redis.call('PEXPIREAT', KEYS[1], at, 'GT') == 0 and added > 0 then redis.call('PEXPIREAT', KEYS[1], at, 'NX') end
return m / 2
