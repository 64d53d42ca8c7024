-- c2c-prune-unregistered: `unread prune-unregistered` for one owner. Removes every
-- one-to-one key of an owner that was never registered (no registration marker in its
-- counts hash) and has been idle since the cutoff: no unread message and no read time at or
-- after it. A registered owner, or one with anything recent, is left as it is. Checked and
-- deleted in one call on the owner's slot, so a message or a registration applied meanwhile
-- is either before the call (and seen by it) or after it (and kept).
--
-- KEYS[1]      hash peer → the owner's read time (ms) for that peer, and the tombstones
--              (fields '\2<peer>')
-- KEYS[2]      hash peer → unread count from that peer, field '' → the total, and the
--              registration marker (ARGV[1])
-- KEYS[3]      the owner's receive options
-- KEYS[3 + i]  the owner's unread zset of peer ARGV[3 + i]
-- ARGV[1]      the registration marker field
-- ARGV[2]      the cutoff (ms): anything at or after it keeps the owner
-- ARGV[3]      '1' to check only (nothing is deleted), '0' to delete
-- ARGV[3 + i]  peer i
--
-- Returns {'registered'}, {'recent'}, {'missing', peer…} (the counts name peers not
-- declared: the caller tries again with them, nothing was deleted), or {'pruned', total}
-- ({'prunable', total} when only checking), total the owner's unread count that went.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return { 'registered' } end
local declared = {}
for i = 4, #ARGV do declared[ARGV[i]] = true end
local missing = { 'missing' }
for _, peer in ipairs(redis.call('HKEYS', KEYS[2])) do
  if peer ~= '' and not declared[peer] then missing[#missing + 1] = peer end
end
if #missing > 1 then return missing end
local cutoff = tonumber(ARGV[2])
for i = 4, #KEYS do
  local newest = redis.call('ZRANGE', KEYS[i], -1, -1, 'WITHSCORES')
  if newest[2] and tonumber(newest[2]) >= cutoff then return { 'recent' } end
end
local reads = redis.call('HGETALL', KEYS[1])
for j = 1, #reads, 2 do
  if string.byte(reads[j], 1) ~= 2 and tonumber(reads[j + 1]) >= cutoff then return { 'recent' } end
end
local total = tonumber(redis.call('HGET', KEYS[2], '') or '0')
if ARGV[3] == '1' then return { 'prunable', total } end
for i = 1, #KEYS do redis.call('DEL', KEYS[i]) end
return { 'pruned', total }
