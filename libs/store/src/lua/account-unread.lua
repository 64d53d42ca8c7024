#!lua flags=no-writes
-- account-unread: the first step of reading several accounts' unread (readAccountsUnread,
-- libs/store/src/account-unread.ts), one call per node (per slot on a Redis Cluster) instead
-- of five commands per account. Reads only.
--
-- Per account i (KEYS in fours, all in the account's slot):
--   KEYS[4i-3]  its one-to-one counts hash (C2cKeys.counts: total, per peer, registration marker)
--   KEYS[4i-2]  its receive options (C2cKeys.options)
--   KEYS[4i-1]  its group index (MemberKeys.groups): the groups with score >= 1 (a member: the
--               score is the group's type class, group.store.ts), in index order
--   KEYS[4i]    its QChat server set (QchatAccountKeys.servers)
-- ARGV[1]: '1' when the caller answers only registered accounts (the summary and the batch
-- API): an account whose counts hash holds no registration marker (ARGV[2], the marker's
-- field) is answered after that one read, with its counts and nothing else.
--
-- Returns per account {counts hash as HGETALL, options as HGETALL, its groups, number of servers}.
local registeredOnly = ARGV[1] == '1'
local marker = ARGV[2]
local out = {}
for i = 1, #KEYS, 4 do
  local counts = redis.call('HGETALL', KEYS[i])
  local known = not registeredOnly
  if not known then
    for j = 1, #counts, 2 do
      if counts[j] == marker then
        known = true
        break
      end
    end
  end
  if known then
    out[#out + 1] = {
      counts,
      redis.call('HGETALL', KEYS[i + 1]),
      redis.call('ZRANGEBYSCORE', KEYS[i + 2], 1, '+inf'),
      redis.call('SCARD', KEYS[i + 3]),
    }
  else
    out[#out + 1] = { counts, {}, {}, 0 }
  end
end
return out
