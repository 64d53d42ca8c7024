#!lua flags=no-writes
-- group-states: the same fields of many groups' state hashes in one call on a single Redis
-- (GroupStore.states, for get_joined_group_list's page; on a Redis Cluster, where each
-- group's hash lives on its own slot, one HMGET per group goes out pipelined per node
-- instead). Reads only.
--
--   KEYS[i]  group i's state hash (GroupKeys.state)
--   ARGV     the fields to read of each: the meta fields, then the member's record field
--
-- Returns per group its HMGET reply, in KEYS order.
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HMGET', KEYS[i], unpack(ARGV)) end
return out
