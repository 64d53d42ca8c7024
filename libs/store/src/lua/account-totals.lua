#!lua flags=no-writes
-- account-totals: the first step of reading several accounts' totals and badge
-- (readTotalsOf, libs/store/src/account-unread.ts: the batch API and the change feed), one
-- call per node (per slot on a Redis Cluster). What account-unread.lua reads, without the
-- per-peer counts the totals do not answer: the one-to-one total, and only the counts of the
-- peers whose receive option keeps them out of the badge. Reads only.
--
-- Per account i (KEYS in fours, all in the account's slot, as account-unread.lua):
--   KEYS[4i-3]  its one-to-one counts hash (C2cKeys.counts: total, per peer, registration marker)
--   KEYS[4i-2]  its receive options (C2cKeys.options: 'c:<peer>' or 'g:<groupId>' → '<time>:<rank>:<option>')
--   KEYS[4i-1]  its group index (MemberKeys.groups): the groups with score >= 1, in index order
--   KEYS[4i]    its QChat server set (QchatAccountKeys.servers)
-- ARGV[1]: '1' when the caller answers only registered accounts (the batch API): an account
--          with no registration marker is answered after its counts read, with nothing else
-- ARGV[2]: the registration marker's field; ARGV[3]: the total's field
-- ARGV[4..]: the options that keep a conversation out of the badge (every option but the default)
--
-- Returns per account {registered (0|1), the total as stored (or false), the sum of the
-- positive counts of the peers with such an option (the total and marker fields are no peer),
-- its groups, the group ids with such an option, number of servers}; an account answered
-- after its counts read (ARGV[1]) gets {0, the total} only.
local registeredOnly = ARGV[1] == '1'
local marker, totalField = ARGV[2], ARGV[3]
local quiet = {}
for j = 4, #ARGV do
  quiet[ARGV[j]] = true
end
local out = {}
for i = 1, #KEYS, 4 do
  local head = redis.call('HMGET', KEYS[i], marker, totalField)
  local registered = head[1] and 1 or 0
  if registered == 1 or not registeredOnly then
    local options = redis.call('HGETALL', KEYS[i + 1])
    local peers, groups = {}, {}
    for j = 1, #options, 2 do
      local f, v = options[j], options[j + 1]
      local option = string.match(v, '^[^:]*:[^:]*:(.*)$')
      if option and quiet[option] then
        local kind, id = string.sub(f, 1, 2), string.sub(f, 3)
        if kind == 'c:' and id ~= totalField and id ~= marker then
          peers[#peers + 1] = id
        elseif kind == 'g:' then
          groups[#groups + 1] = id
        end
      end
    end
    local muted = 0
    for from = 1, #peers, 1000 do -- 1000 fields a read (unpack's stack bounds a call's arguments)
      for _, n in ipairs(redis.call('HMGET', KEYS[i], unpack(peers, from, math.min(#peers, from + 999)))) do
        local c = tonumber(n)
        if c and c > 0 then
          muted = muted + c
        end
      end
    end
    out[#out + 1] = { registered, head[2], muted, redis.call('ZRANGEBYSCORE', KEYS[i + 2], 1, '+inf'), groups, redis.call('SCARD', KEYS[i + 3]) }
  else
    out[#out + 1] = { 0, head[2] } -- nothing else read (readTotalsOf fills in the rest)
  end
end
return out
