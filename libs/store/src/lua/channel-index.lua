-- channel-index: remembers, per account, the QChat channels where it has keys (its direct
-- mention set, its ack entry), so account-deleted can find them. Each entry is scored by
-- when the account's data there expires (a max), pruned once past, and the key expires with
-- its newest entry, so the index stays bounded by the retention like the data it lists.
--
-- KEYS[1]  <prefix>:qacc:{app:account}:chn  zset  "serverId:channelId" -> expiry (ms)
-- ARGV[1]  "serverId:channelId"
-- ARGV[2]  expiry of the account's data in that channel (ms): time + retention
-- ARGV[3]  now (ms)
--
-- Returns 1 when recorded, 0 when the data has already expired.
local at = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local function int(n)
  return string.format('%d', n)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', int(now))
if at <= now then return 0 end
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
local cur = redis.call('PEXPIRETIME', KEYS[1])
if cur == -1 or cur < at then redis.call('PEXPIREAT', KEYS[1], int(at)) end
return 1
