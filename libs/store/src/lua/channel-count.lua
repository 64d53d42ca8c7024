#!lua flags=no-writes
-- channel-count: how many unread mentions an account has in each of several QChat channels,
-- by channel-query.lua's rule and without its page: the members of the account's target
-- sets (its direct set, @all, one per role it holds) after its ack time and within the
-- retention, up to now, each message once, that count by mention-match.lua's rule. No
-- message body and no position is read.
--
-- Two ways, split at the channel's marker <base>:since (channel-message.lua):
-- - after it, by counting: the sum of ZCOUNTs of the account's sets over the range, corrected
--   for the members that may not count exactly once there, which are all listed in
--   <base>:chk (in two or more sets, recalled or deleted, mentioned again) or, for the
--   account's own messages to @all or a role, in <base>:o:<escaped account>. Each of those in
--   the range is checked by the rule (one HMGET of their target entries, one ZMSCORE per
--   set): it was counted once per set of the account holding it and counts 1 or 0. Every
--   other member of the range is in exactly one of the account's sets, is the message's
--   current member and is not the account's own, so it counts once. The work is in the
--   number of sets and of members to check, not of unread mentions.
-- - at or before it (members that a projection before <base>:chk was kept may have written,
--   for at most the retention after an upgrade), and with no marker at all: member by member,
--   the query's own merge (one HMGET of <base>:tgt per batch read).
--
-- A count may be capped: with a cap, a count above it is answered cap + 1 ("more than
-- cap"); the member-by-member way stops reading there.
--
-- Channels are laid out one after the other; channel c with n_c target sets takes
--   KEYS  <base>:tgt    hash    padded id -> "<fromAccount>\n<time, 16 digits>\n<suffix>\n…"
--         <base>:ack    zset    account -> ack time
--         <base>:chk    zset    members to check one by one -> time
--         <base>:since  string  the marker
--         <base>:o:<escaped account>  zset  the account's own @all and role members -> time
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

-- Appends to `into` the members of ms not in `seen` yet, marking them seen; returns `into`.
local function appendUnseen(seen, ms, into)
  for _, m in ipairs(ms) do
    if not seen[m] then
      seen[m] = true
      into[#into + 1] = m
    end
  end
  return into
end

-- Member by member over [lo, hi] (times), at most cap + 1 counted.
local function scanCount(tgt, setKeys, mine, lo, hi)
  local high, low = int(hi), int(lo)
  local seen = #setKeys > 1 and {} or nil
  local n = 0
  for _, key in ipairs(setKeys) do
    local off = 0
    local batch = cap > 0 and math.max(16, cap + 1 - n) or 256
    while true do
      local ms = redis.call('ZRANGE', key, high, low, 'BYSCORE', 'REV', 'LIMIT', off, batch)
      local fresh, ids = seen and appendUnseen(seen, ms, {}) or ms, {}
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

-- Members checked per HMGET / ZMSCORE.
local CHECK_BATCH = 500

-- By counting over [lo, hi] (times), for members written with <base>:chk kept.
local function tallyCount(tgt, chk, sent, setKeys, mine, lo, hi)
  local high, low = int(hi), int(lo)
  local n = 0
  for _, key in ipairs(setKeys) do
    n = n + redis.call('ZCOUNT', key, low, high)
  end
  local odd, seen = {}, {}
  for _, key in ipairs({ chk, sent }) do appendUnseen(seen, redis.call('ZRANGE', key, low, high, 'BYSCORE'), odd) end
  for first = 1, #odd, CHECK_BATCH do
    local last = math.min(first + CHECK_BATCH - 1, #odd)
    local ms, ids = {}, {}
    for i = first, last do
      ms[#ms + 1] = odd[i]
      ids[#ids + 1] = string.sub(odd[i], 17)
    end
    local held = {}
    for i = 1, #ms do held[i] = 0 end
    for _, key in ipairs(setKeys) do
      local scores = redis.call('ZMSCORE', key, unpack(ms))
      for i = 1, #ms do
        if scores[i] then held[i] = held[i] + 1 end
      end
    end
    local entries = redis.call('HMGET', tgt, unpack(ids))
    for i, m in ipairs(ms) do
      -- counted held[i] times above; it counts once if the rule says so
      n = n - held[i]
      if held[i] > 0 and mentionCounts(m, entries[i], account, mine) then n = n + 1 end
    end
  end
  return n
end

local function countChannel(tgt, ackKey, chk, sinceKey, sent, setKeys, mine)
  local lo = cutoff
  local ack = redis.call('ZSCORE', ackKey, account)
  if ack and tonumber(ack) + 1 > lo then lo = tonumber(ack) + 1 end
  if now < lo then return 0 end
  local since = redis.call('GET', sinceKey)
  since = since and tonumber(since) or now
  local n = 0
  if since >= lo then n = scanCount(tgt, setKeys, mine, lo, math.min(since, now)) end
  if since < now then n = n + tallyCount(tgt, chk, sent, setKeys, mine, math.max(lo, since + 1), now) end
  if cap > 0 and n > cap then return cap + 1 end
  return n
end

local out = {}
local k, a = 1, 5
while k <= #KEYS do
  local nSets = tonumber(ARGV[a])
  local setKeys, mine = {}, {}
  for j = 1, nSets do
    setKeys[j] = KEYS[k + 4 + j]
    mine[j] = '\n' .. ARGV[a + j] .. '\n'
  end
  out[#out + 1] = countChannel(KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], setKeys, mine)
  k = k + 5 + nSets
  a = a + 1 + nSets
end
return out
