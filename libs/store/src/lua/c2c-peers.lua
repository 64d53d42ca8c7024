#!lua flags=no-writes
-- c2c-peers: get_c2c_unread_msg_num with peers in one call (single Redis only: each peer's
-- registration lives on the peer's own slot, so on a Redis Cluster the store issues the same
-- reads as one HMGET plus one HEXISTS per peer in one round trip per node instead).
--
-- KEYS[1]      the owner's c2c counts hash (Keyspace.c2cCounts): its registration marker and
--              its unread per peer
-- KEYS[2..n+1] each peer's c2c counts hash, in the order of ARGV[2..n+1]
-- ARGV[1]      the registration marker field (Keyspace.account)
-- ARGV[2..n+1] the peers
--
-- Returns { owner registered (0/1), then per peer: its unread count (or false), then per
-- peer: registered (0/1) }.
local n = #ARGV - 1
local fields = { ARGV[1] }
for i = 1, n do fields[i + 1] = ARGV[i + 1] end
local v = redis.call('HMGET', KEYS[1], unpack(fields))
local out = { v[1] and 1 or 0 }
for i = 1, n do out[#out + 1] = v[i + 1] or false end
for i = 1, n do out[#out + 1] = redis.call('HEXISTS', KEYS[i + 1], ARGV[1]) end
return out
