#!lua flags=no-writes
-- account-heads: the first step of reading the totals of several accounts (AccountTotalsReader.readMany,
-- libs/store/src/account-totals.ts), one call per node (per slot on a Redis Cluster) instead
-- of four commands per account. Reads only.
--
-- Per account i (KEYS in threes, all in the account's slot):
--   KEYS[3i-2]  its one-to-one counts hash (Keyspace.c2cCounts): fields ARGV[1] (the
--               registration marker) and ARGV[2] (the total)
--   KEYS[3i-1]  its group index (GroupStore.indexKey): groups with score 1 (a member)
--   KEYS[3i]    its QChat server set (QchatMembershipStore.serversKey)
--
-- Returns per account {marker or false, total or false, number of groups it is in, number of servers}.
local out = {}
for i = 1, #KEYS, 3 do
  local h = redis.call('HMGET', KEYS[i], ARGV[1], ARGV[2])
  out[#out + 1] = { h[1], h[2], redis.call('ZCOUNT', KEYS[i + 1], 1, 1), redis.call('SCARD', KEYS[i + 2]) }
end
return out
