-- c2c-delete: removes every one-to-one key of an owner (account deleted): the read times
-- (and with them the tombstones), the counts, and one unread zset per peer that still has
-- unread messages. The counts hash names exactly those peers (a peer's field and its zset
-- exist together); the caller reads them first and declares their zsets. When the counts name a peer whose zset is not
-- declared (a message counted since the caller looked), nothing is deleted and the missing
-- peers are returned, for the caller to try again with them.
--
-- KEYS[1]      hash peer → the owner's read time (ms) for that peer, and the tombstones
-- KEYS[2]      hash peer → unread count from that peer, plus field '' → the owner's total
--              (and the registration marker, ARGV[1])
-- KEYS[2 + i]  the owner's unread zset of peer ARGV[1 + i]
-- ARGV[1]      the registration marker field (not a peer)
-- ARGV[1 + i]  peer i
--
-- Returns the peers counted but not declared ({} when everything was deleted).
local declared = {}
for i = 2, #ARGV do declared[ARGV[i]] = true end
local missing = {}
for _, peer in ipairs(redis.call('HKEYS', KEYS[2])) do
  if peer ~= '' and peer ~= ARGV[1] and not declared[peer] then missing[#missing + 1] = peer end
end
if #missing > 0 then return missing end
for i = 1, #KEYS do redis.call('DEL', KEYS[i]) end
return {}
