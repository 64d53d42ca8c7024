-- channel-index: remembers, per account, the QChat channels where it has keys (its direct
-- mention sets, its ack entries), so account-deleted can find them; every entry of a batch
-- for the account in one call. Each entry is scored by when the account's data there
-- expires (a max, also between the entries of one call), pruned once past, and the key
-- expires with its newest entry, so the index stays bounded by the retention like the data
-- it lists.
--
-- KEYS[1]  <prefix>:qacc:{app:account}:chn  zset  "serverId:channelId" -> expiry (ms)
-- ARGV[1]  now (ms)
-- ARGV[2i], ARGV[2i + 1]  per entry: the expiry of the account's data in that channel (ms:
--          time + retention), "serverId:channelId"
--
-- Returns the number of entries recorded; the others had already expired.
local now = tonumber(ARGV[1])
local function int(n)
  return string.format('%d', n)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now))
local kept, m, newest = {}, 0, nil
for i = 2, #ARGV, 2 do
  local at = tonumber(ARGV[i])
  if at > now then
    kept[m + 1] = ARGV[i]
    kept[m + 2] = ARGV[i + 1]
    m = m + 2
    if not newest or at > newest then newest = at end
  end
end
if m == 0 then return 0 end
-- at most 1000 pairs per ZADD (unpack's stack bounds one call's arguments; a batch may hold thousands)
for s = 1, m, 2000 do redis.call('ZADD', KEYS[1], 'GT', unpack(kept, s, math.min(s + 1999, m))) end
-- never shortened: GT moves a later expiry, NX sets the first one (the key has none yet)
local at = int(newest)
if redis.call('PEXPIREAT', KEYS[1], at, 'GT') == 0 then redis.call('PEXPIREAT', KEYS[1], at, 'NX') end
return m / 2
