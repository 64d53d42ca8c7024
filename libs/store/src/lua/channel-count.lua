#!lua flags=no-writes
-- channel-count: how many unread mentions an account has in each of several QChat channels,
-- by channel-query.lua's rule and without its page: the members of the account's target
-- sets (its direct set, @all, one per role it holds) after its ack time and within the
-- retention, up to now, each message once, that count by mention-match.lua's rule (one
-- HMGET of <base>:tgt per batch read). No message body and no position is read: the count
-- of channel-query's pages over all positions, read from the start (now, 0).
--
-- A count may stop early: with a cap, at cap + 1 (the count is "more than cap"), so a
-- channel costs at most about cap + 1 members however many are unread.
--
-- Channels are laid out one after the other; channel c with n_c target sets takes
--   KEYS  <base>:tgt  hash  padded id -> "<fromAccount>\n<time, 16 digits>\n<suffix>\n…"
--         <base>:ack  zset  account -> ack time
--         then its n_c target sets: <base>:all, <base>:a:<escaped account>, <base>:r:<roleId>…
--   ARGV  n_c, then the suffixes of its target sets in the same order ("all", "a:<escaped account>", "r:<roleId>")
-- after the common
--   ARGV[1]  account
--   ARGV[2]  now (ms): later members are not counted (the query's first position)
--   ARGV[3]  cutoff: now - retention (older messages are gone)
--   ARGV[4]  cap: 0 counts everything, else counting stops at cap + 1
--
-- On a single Redis one call may hold channels of any slots (MentionStore.countUnreadMentions
-- sends one per node); on a Cluster it holds one channel (its keys share the channel's tag).
--
-- Returns one count per channel, in order.
local account = ARGV[1]
local now, cutoff, cap = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function int(n)
  return string.format('%d', n)
end

--#include mention-match

local function countChannel(tgt, ackKey, setKeys, mine)
  local lo = cutoff
  local ack = redis.call('ZSCORE', ackKey, account)
  if ack and tonumber(ack) + 1 > lo then lo = tonumber(ack) + 1 end
  if now < lo then return 0 end
  local hi, low = int(now), int(lo)
  local seen = #setKeys > 1 and {} or nil
  local n = 0
  for _, key in ipairs(setKeys) do
    local off = 0
    local batch = cap > 0 and math.max(16, cap + 1 - n) or 256
    while true do
      local ms = redis.call('ZRANGE', key, hi, low, 'BYSCORE', 'REV', 'LIMIT', off, batch)
      local fresh, ids = ms, {}
      if seen then
        fresh = {}
        for _, m in ipairs(ms) do
          if not seen[m] then
            seen[m] = true
            fresh[#fresh + 1] = m
          end
        end
      end
      for i, m in ipairs(fresh) do ids[i] = string.sub(m, 17) end
      if #ids > 0 then
        local entries = redis.call('HMGET', tgt, unpack(ids))
        for i, m in ipairs(fresh) do
          if mentionCounts(m, entries[i], account, mine) then n = n + 1 end
        end
      end
      if cap > 0 and n > cap then return cap + 1 end
      if #ms < batch then break end
      off = off + #ms
      batch = math.min(batch * 2, 1000)
    end
  end
  return n
end

local out = {}
local k, a = 1, 5
while k <= #KEYS do
  local nSets = tonumber(ARGV[a])
  local setKeys, mine = {}, {}
  for j = 1, nSets do
    setKeys[j] = KEYS[k + 1 + j]
    mine[j] = '\n' .. ARGV[a + j] .. '\n'
  end
  out[#out + 1] = countChannel(KEYS[k], KEYS[k + 1], setKeys, mine)
  k = k + 2 + nSets
  a = a + 1 + nSets
end
return out
