-- group-list: everything get_joined_group_list reads, in one call (single Redis only: the
-- groups' state hashes live on other slots than the account, so on a Redis Cluster the
-- store reads the same in two round trips instead, GroupStore.joinedGroups).
--
-- Group state keys are built here as Keyspace.group(app, groupId) + ':state' builds them:
-- ARGV[1] .. esc(groupId) .. ARGV[2], with esc() as in keyspace.ts ('%', '{', '}', ':' →
-- '%XX', upper-case hex).
--
-- KEYS[1]  the account's c2c counts hash (its registration marker, Keyspace.account)
-- KEYS[2]  the account's group index (zset: group id → 1 while a member, 0 after leaving)
-- ARGV[1]  state key up to the group id: <prefix>:grp:{<escaped app>:
-- ARGV[2]  state key after the group id: }:state
-- ARGV[3]  the registration marker field
-- ARGV[4]  the account's member field in a group's state hash: m:<account>
--
-- Returns { registered (0/1), then per group in index order: id, max, type, name, state, nc,
-- record } ('nc', issue 17: how many seqs of the group do not count; GroupStore.settle).
local out = { redis.call('HEXISTS', KEYS[1], ARGV[3]) }
local ids = redis.call('ZRANGE', KEYS[2], 1, 1, 'BYSCORE')
local function esc(id)
  return (string.gsub(id, '[%%{}:]', function(c) return string.format('%%%02X', string.byte(c)) end))
end
for _, g in ipairs(ids) do
  local v = redis.call('HMGET', ARGV[1] .. esc(g) .. ARGV[2], 'max', 'type', 'name', 'state', 'nc', ARGV[4])
  out[#out + 1] = g
  for i = 1, 6 do out[#out + 1] = v[i] or false end
end
return out
