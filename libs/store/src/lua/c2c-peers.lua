#!lua flags=no-writes
-- c2c-peers: get_c2c_unread_msg_num with peers in one call on a single Redis
-- (C2cStore.perPeerWithPeers; on a Redis Cluster, where each peer's registration lives on
-- its own slot, the same commands go out pipelined per node instead). Reads only.
--
--   KEYS[1]     the owner's one-to-one counts hash (C2cKeys.counts)
--   KEYS[1+i]   peer i's counts hash (its registration marker is a field of it)
--   ARGV[1]     the registration marker's field (ACCOUNT_FIELD)
--   ARGV[1+i]   peer i's id (its field in the owner's counts hash)
--
-- Returns { HMGET of the owner's hash: marker, then each peer's count; then per peer 1 or 0,
-- whether its hash holds its marker }.
local fields = { ARGV[1] }
for i = 2, #ARGV do fields[i] = ARGV[i] end
local out = { redis.call('HMGET', KEYS[1], unpack(fields)) }
local exist = {}
for i = 2, #KEYS do exist[i - 1] = redis.call('HEXISTS', KEYS[i], ARGV[1]) end
out[2] = exist
return out
