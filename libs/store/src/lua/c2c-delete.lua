-- c2c-delete: removes every one-to-one key of an owner (account deleted): the read times,
-- the counts, and one unread zset per peer that still has unread messages. The counts hash
-- names exactly those peers (a peer's field and its zset exist together), so no SCAN is
-- needed. The zset keys are built here from ARGV[1]; they share the owner's hash tag with
-- KEYS[1] and KEYS[2], so they live in the same cluster slot.
--
-- KEYS[1]  hash peer → the owner's read time (ms) for that peer
-- KEYS[2]  hash peer → unread count from that peer, plus field '' → the owner's total
-- ARGV[1]  prefix of the owner's per-peer zset keys (the peer id follows it)
--
-- Returns the number of keys deleted.
local deleted = 0
local peers = redis.call('HKEYS', KEYS[2])
for _, peer in ipairs(peers) do
  if peer ~= '' then
    deleted = deleted + redis.call('DEL', ARGV[1] .. peer)
  end
end
return deleted + redis.call('DEL', KEYS[1], KEYS[2])
