-- channel-index: remembers, per account, the QChat channels where it has keys (its direct
-- mention sets, its ack entries), so account-deleted can find them; every entry of a batch
-- for the account in one call. Each entry is scored by when the account's data there
-- expires (a max, also between the entries of one call), pruned once past (when a call adds
-- a channel: only then can the index grow), and the key
-- expires with its newest entry, so the index stays bounded by the retention like the data
-- it lists.
--
-- KEYS[1]  <prefix>:qacc:{app:account}:chn  zset  "serverId:channelId" -> expiry (ms)
-- ARGV[1]  now (ms, an integer: it is passed to ZREMRANGEBYSCORE as is)
-- ARGV[2i], ARGV[2i + 1]  per entry: the expiry of the account's data in that channel (ms:
--          time + retention, an integer: the newest is passed to PEXPIREAT as is), "serverId:channelId"
--
-- Returns the number of entries recorded; the others had already expired.
-- Numbers by arithmetic (`s + 0`, one conversion; tonumber converts twice), and the
-- arguments' own strings where a command takes a time (integers, as the store writes them):
-- no string.format per call.
local now = ARGV[1] + 0
local m, newest, at = 0, nil, nil
local kept
if #ARGV == 3 then
  -- one entry (most calls: an account is rarely named twice in a batch)
  newest = ARGV[2] + 0
  if newest > now then m, at = 2, ARGV[2] end
else
  kept = {}
  for i = 2, #ARGV, 2 do
    local t = ARGV[i] + 0
    if t > now then
      kept[m + 1] = ARGV[i]
      kept[m + 2] = ARGV[i + 1]
      m = m + 2
      if not newest or t > newest then newest, at = t, ARGV[i] end
    end
  end
end
if m == 0 then return 0 end
local added = 0
if not kept then
  added = redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[3])
else
  -- at most 1000 pairs per ZADD (unpack's stack bounds one call's arguments; a batch may hold thousands)
  for s = 1, m, 2000 do added = added + redis.call('ZADD', KEYS[1], 'GT', unpack(kept, s, math.min(s + 1999, m))) end
end
-- never shortened: GT moves a later expiry, NX sets the first one (a key without one was
-- created by this ZADD, so only a call that added a member can need it)
local created = redis.call('PEXPIREAT', KEYS[1], at, 'GT') == 0 and added > 0 and redis.call('PEXPIREAT', KEYS[1], at, 'NX') == 1
-- pruned only when it grew: a set that did not grow holds no more expired entries than a
-- pruned one would gain (expired entries are ignored anyway); this saves a command per call.
-- A set this call created holds only what it added, none expired.
if added > 0 and not created then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1]) end
return m / 2
