#!lua flags=no-writes
-- channel-query: one page of the messages of a QChat channel that @-mention an account and
-- that it has not read (queryChannelUnReadMentionedMsgPage), newest first.
--
-- Order: time descending, then msgIdServer descending. Target set members are
-- <time, 16 digits><msgIdServer, 20 digits>, so plain string comparison is that order and
-- the merge needs no scores (WITHSCORES costs more than the rest of the query).
--
-- Position: (posTime, posSkip) = "messages older than posTime, and those at posTime after
-- the first posSkip of the channel's messages at posTime in that order". posSkip counts every
-- mention message of the channel at that millisecond (the channel-wide index <base>:ix,
-- which keeps recalled and deleted messages until they leave the retention), so a recall or
-- a role change between two pages does not shift it; a plain time T is (T, 0).
--
-- The merge reads the account's sets (its direct set, @all, one per role it holds) lazily
-- in growing batches, skips duplicates, messages at or before the account's ack time or
-- older than the retention, and (one HMGET of <base>:tgt per round) members that do not
-- count by mention-match.lua's rule (recalled, deleted or pruned, the account's own, a
-- member whose time is not the message's, retargeted); channel-count.lua counts by the
-- same rule without building a page. It stops at limit + 1 messages (the extra one says
-- whether there is more, and whether the page ends inside a millisecond).
--
-- KEYS[1]  <base>:ix    zset  padded id -> time (every mention message of the channel)
-- KEYS[2]  <base>:tgt   hash  padded id -> "<fromAccount>\n<time, 16 digits>\n<suffix>\n…"
-- KEYS[3]  <base>:ack   zset  account -> ack time
-- KEYS[4]  <base>:out   hash  padded id -> the message's answer JSON (not read here: declared
--                             so that the page's two reads name the same keys)
-- KEYS[5..] the account's target sets: <base>:all, <base>:a:<escaped account>, <base>:r:<roleId>…
-- ARGV[1]  account
-- ARGV[2]  posTime (ms)
-- ARGV[3]  posSkip
-- ARGV[4]  limit (1..200)
-- ARGV[5]  cutoff: now - retention (older messages are gone)
-- ARGV[6]  skip cap and ARGV[7] minimum time: a next position inside a millisecond must
--          have posSkip below the cap and a time at least the minimum (what nextTimetag can
--          encode); otherwise the page is extended to the end of that millisecond
-- ARGV[8..] the suffixes of KEYS[5..], in the same order ("all", "a:<escaped account>", "r:<roleId>")
--
-- Returns { hasMore (0/1), nextTime, nextSkip, then each message's padded id, in page order };
-- KEYS[4] (<base>:out) holds each one's answer JSON as rendered at projection time
-- (channel-message.lua), which the caller reads next (MentionStore.unreadMentionParts).
local account = ARGV[1]
local posTime, posSkip = tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, cutoff, cap, minTime = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local function int(n)
  return string.format('%d', n)
end

local lo = cutoff
local ack = redis.call('ZSCORE', KEYS[3], account)
if ack and tonumber(ack) + 1 > lo then lo = tonumber(ack) + 1 end

local hi = posTime
local bound = nil -- at posTime, only members <= bound are left
if posSkip > 0 then
  local g = redis.call('ZRANGE', KEYS[1], int(posTime), int(posTime), 'BYSCORE', 'REV')
  if posSkip < #g then
    bound = string.format('%016d', posTime) .. g[posSkip + 1]
  else
    hi = posTime - 1
  end
end

local want = limit + 1
-- The account's sets, as parallel arrays (the merge reads them once per member it takes):
-- each set's key, its buffer of fetched members, the position of its head in that buffer,
-- how many it has fetched, its next batch's size and whether it is used up.
local nsets = #KEYS - 4
local setKeys, bufs, poss, offs, batches, dones = {}, {}, {}, {}, {}, {}
local mine = {}
for i = 1, nsets do
  setKeys[i] = KEYS[i + 4]
  mine[i] = '\n' .. ARGV[i + 7] .. '\n'
end

--#include mention-match
local function counts(m, entry)
  return mentionCounts(m, entry, account, mine)
end
local hiText, loText = int(hi), int(lo)
-- each set's members in [lo, hi] (the script is atomic: exact for the whole page)
local inRange, total = {}, 0

-- Fetches set i's next batch; returns its first member (nil when the set is used up).
local function refill(i)
  local buf = redis.call('ZRANGE', setKeys[i], hiText, loText, 'BYSCORE', 'REV', 'LIMIT', offs[i], batches[i])
  bufs[i], poss[i], offs[i] = buf, 1, offs[i] + #buf
  if #buf < batches[i] or offs[i] >= inRange[i] then dones[i] = true end
  batches[i] = math.min(batches[i] * 2, 1000)
  return buf[1]
end

-- Each set's head member: false once the set is used up, nil when its next batch is still
-- to fetch (fetched when the merge next looks at the set, as it would have to).
local heads = {}
-- First batches in proportion to each set's members in range (a ZCOUNT each, O(log n)),
-- with some slack: a page takes from each set about its share when the sets interleave in
-- time, and a set that runs short fetches more (refill doubles its batch). A set with no
-- member in range is used up at once.
if hi >= lo then
  for i = 1, nsets do
    inRange[i] = redis.call('ZCOUNT', setKeys[i], loText, hiText)
    total = total + inRange[i]
  end
end
for i = 1, nsets do
  offs[i], dones[i] = 0, false
  local n = inRange[i] or 0
  if n == 0 then
    heads[i], dones[i], batches[i] = false, true, 0
  else
    batches[i] = math.min(n, math.max(16, math.ceil(want * n / total * 1.25) + 8))
  end
end

-- Next member in merged order (largest first), without duplicates; nil when all are used up.
local last = nil
local function nextMember()
  while true do
    local bi, bm = 0, nil
    for i = 1, nsets do
      local m = heads[i]
      if m == nil then
        m = refill(i) or false
        heads[i] = m
      end
      if m and (bm == nil or m > bm) then bi, bm = i, m end
    end
    if bi == 0 then return nil end
    local p = poss[bi] + 1
    local m = bufs[bi][p]
    if m then
      poss[bi] = p
      heads[bi] = m
    elseif dones[bi] then
      heads[bi] = false
    else
      heads[bi] = nil
    end
    if bm ~= last and not (bound and bm > bound) then
      last = bm
      return bm
    end
  end
end

-- Rounds: take as many merged members as still wanted, drop the account's own (one HMGET).
local page = {} -- members, in order, up to `want` (the last may be the look-ahead)
local exhausted = hi < lo
while not exhausted and #page < want do
  local batch = {}
  while #batch < want - #page do
    local m = nextMember()
    if not m then
      exhausted = true
      break
    end
    batch[#batch + 1] = m
  end
  if #batch > 0 then
    local ids = {}
    for i, m in ipairs(batch) do ids[i] = string.sub(m, 17) end
    local entries = redis.call('HMGET', KEYS[2], unpack(ids))
    for i, m in ipairs(batch) do
      if counts(m, entries[i]) then page[#page + 1] = m end
    end
  end
end

local function timeOf(m)
  return tonumber(string.sub(m, 1, 16))
end

-- Splits off the look-ahead; extends the page to the end of a millisecond when needed.
local ahead = nil
if #page > limit then ahead = table.remove(page) end
local nextTime, nextSkip = posTime, posSkip
if #page > 0 then
  local lastM = page[#page]
  local t = timeOf(lastM)
  nextTime, nextSkip = math.max(t - 1, 0), 0
  if ahead and timeOf(ahead) == t then
    -- The page ends inside a millisecond: continue after the last id at that millisecond.
    local g = redis.call('ZRANGE', KEYS[1], int(t), int(t), 'BYSCORE', 'REV')
    local id = string.sub(lastM, 17)
    local k = 0
    for i, m in ipairs(g) do
      if m == id then
        k = i
        break
      end
    end
    if k >= 1 and k < cap and t >= minTime then
      nextTime, nextSkip = t, k
    else
      -- The position cannot be encoded (too many messages share this millisecond, or a time
      -- before 2001): finish the millisecond in this page.
      while ahead and timeOf(ahead) == t do
        page[#page + 1] = ahead
        ahead = nil
        while true do
          local m = nextMember()
          if not m then break end
          if counts(m, redis.call('HGET', KEYS[2], string.sub(m, 17))) then
            ahead = m
            break
          end
        end
      end
    end
  end
end

-- The page's ids, not its answers: the caller reads their answers (<base>:out) with one
-- HMGET of its own, which Redis answers straight from the hash. Passing 200 answers through
-- Lua would make each a Lua string (hashed byte by byte) and convert it back.
local out = { ahead and 1 or 0, int(nextTime), int(nextSkip) }
for i = 1, #page do out[#out + 1] = string.sub(page[i], 17) end
return out
