#!lua flags=no-writes
-- qchat-access: what queryChannelUnReadMentionedMsgPage checks before it reads a page, in one
-- call (QchatMembershipStore.access): the account's membership and roles in the server,
-- whether the channel exists and whether the server is known, and, on a single Redis, the
-- account's registration (on a Redis Cluster the registration lives on the account's slot:
-- the caller reads it beside this call). Reads only.
--
--   KEYS[1]  the server's members (set)
--   KEYS[2]  the account's roles in the server (set)
--   KEYS[3]  the server's channels (set)
--   KEYS[4]  optional: the account's one-to-one counts hash, which holds its registration marker
--   ARGV[1]  the account
--   ARGV[2]  the channel id
--   ARGV[3]  the registration marker's field (with KEYS[4])
--
-- Returns { member 0|1, channel known 0|1, server known 0|1 (it has members or channels),
-- registered 0|1 (0 without KEYS[4]), the role ids… }.
local out = {
  redis.call('SISMEMBER', KEYS[1], ARGV[1]),
  redis.call('SISMEMBER', KEYS[3], ARGV[2]),
  redis.call('EXISTS', KEYS[1], KEYS[3]) > 0 and 1 or 0,
  KEYS[4] and redis.call('HEXISTS', KEYS[4], ARGV[3]) or 0,
}
for _, role in ipairs(redis.call('SMEMBERS', KEYS[2])) do out[#out + 1] = role end
return out
