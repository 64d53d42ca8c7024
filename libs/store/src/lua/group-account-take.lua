-- group-account-take: first step of account-deleted for the group family. Returns every
-- group the account has joined or left (its group index) and deletes that index, in one
-- atomic step on the account's slot.
--
-- KEYS[1]  the account's group index (sorted set: score >= 1 = member, 0 = left)
--
-- Returns the group ids.
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return ids
