-- channel-message: folds QChat channel message events into one channel's mention projection,
-- every such event of a batch for the channel in one call, in order: op "mention" (event
-- channel-mention) or op "update" (channel-message-updated).
--
-- Message ids are msgIdServer zero-padded to 20 digits. Members of the target sets are
-- <time zero-padded to 16 digits><padded id>, so their string order is (time, id) order and
-- the query merges them without asking for scores.
--
-- Order independence (events of the mention topic are ordered per channel, but an update may
-- be produced before its mention, and redelivery repeats either): status, body and ext are
-- last-writer-wins registers keyed by updateTime (the mention's own fields count as a write
-- at its updateTime), with a fixed tie-break, so any order of the same events merges to the
-- same record. Recalled (1) and deleted (2) are terminal: they beat any later edit, and a
-- message whose record is terminal has no entry in <base>:tgt. An update that arrives before
-- its mention is kept in <base>:upd and listed in <base>:pend until the mention comes (or
-- until its updateTime leaves the retention).
--
-- Target sets are only ever added to (and pruned below the retention when written, else
-- they expire): what says whether a member still counts is the message's entry in
-- <base>:tgt, which the query checks (channel-query.lua). So a message that is recalled,
-- retargeted or pruned needs no write to sets this call does not declare.
--
-- KEYS[1]  <base>:ix    zset  every mention message of the channel: padded id -> time
-- KEYS[2]  <base>:msg   hash  padded id -> the fixed fields, pre-rendered by the store
-- KEYS[3]  <base>:tgt   hash  padded id -> "<fromAccount>\n<time, 16 digits>\n" then each
--                             target set suffix followed by "\n"
-- KEYS[4]  <base>:upd   hash  padded id -> {s, st, ut, b, bt, e, et} (JSON, numbers as strings)
-- KEYS[5]  <base>:pend  zset  padded id with an update but no mention yet -> updateTime
-- KEYS[6]  <base>:out   hash  padded id -> the message's answer JSON, rendered here
--                             (mention-render.lua) whenever its fixed fields or its record
--                             change, dropped with the message: a page is a concatenation
-- KEYS[7..] the target sets the mentions of this call are indexed in: <base>:all,
--          <base>:r:<roleId>, <base>:a:<escaped account>, zsets of <time><padded id> -> time
-- ARGV[1]  now (ms)
-- ARGV[2]  retention (ms): an entry lives until its message time + retention
-- then per event, from its offset o:
-- ARGV[o+1]  op: "mention" | "update"
-- ARGV[o+2]  padded msgIdServer
-- ARGV[o+3]  status
-- ARGV[o+4]  updateTime (for a mention: its updateTime, or its time when absent)
-- ARGV[o+5]  "1" when a body is given, else "0";  ARGV[o+6]  body
-- ARGV[o+7]  "1" when an ext is given, else "0";  ARGV[o+8]  ext
-- mention only:
-- ARGV[o+9]  message time
-- ARGV[o+10] fixed fields, pre-rendered (qchat-wire.ts renderFixedFields)
-- ARGV[o+11] its <base>:tgt entry ("<fromAccount>\n<time>\n<suffix>\n…")
-- ARGV[o+12] the number nt of its target sets, then ARGV[o+13..o+12+nt] their positions in KEYS
--
-- Returns the number of events that changed the projection (the others were outside the
-- retention).
local now = tonumber(ARGV[1])
local retention = tonumber(ARGV[2])
local cutoff = now - retention
local PRUNE_PER_CALL = 200

local function int(n)
  return string.format('%d', n)
end

--#include mention-render

-- Expiries to set at the end of the call: KEYS position -> the newest expiry asked for.
local expiry = {}
local function extend(i, at)
  local cur = expiry[i]
  if not cur or at > cur then expiry[i] = at end
end

-- Takes a message out of the answers: its fixed fields, target entry and rendered answer
-- (not ix/upd). Its members left in target sets no longer count (no target entry).
local function unindex(mid)
  redis.call('HDEL', KEYS[2], mid)
  redis.call('HDEL', KEYS[3], mid)
  redis.call('HDEL', KEYS[6], mid)
end

-- (Re)renders the answer of an indexed message from its fixed fields and record.
local function render(mid, fixed, rec, expireAt)
  local text = fixed and renderMention(mid, fixed, rec)
  if text then
    redis.call('HSET', KEYS[6], mid, text)
    extend(6, expireAt)
  end
end

-- Retention: drop what is older than the cutoff (bounded per call; keys expire anyway).
local old = redis.call('ZRANGE', KEYS[1], '-inf', '(' .. int(cutoff), 'BYSCORE', 'LIMIT', 0, PRUNE_PER_CALL)
for _, mid in ipairs(old) do
  unindex(mid)
  redis.call('HDEL', KEYS[4], mid)
  redis.call('ZREM', KEYS[1], mid)
end
local oldp = redis.call('ZRANGE', KEYS[5], '-inf', '(' .. int(cutoff), 'BYSCORE', 'LIMIT', 0, PRUNE_PER_CALL)
for _, mid in ipairs(oldp) do
  redis.call('HDEL', KEYS[4], mid)
  redis.call('ZREM', KEYS[5], mid)
end

local function terminal(s)
  return s == 1 or s == 2
end

-- Merges the event at offset o's status/body/ext into the message's last-writer-wins record;
-- also returns whether the message had a record before (only then can it be pending).
local function merge(o, id, status, utime)
  local raw = redis.call('HGET', KEYS[4], id)
  local rec
  if raw then
    rec = cjson.decode(raw)
  else
    rec = { s = ARGV[o + 3], st = ARGV[o + 4], ut = ARGV[o + 4] }
  end
  local cs, cst = tonumber(rec.s), tonumber(rec.st)
  local better
  if terminal(status) ~= terminal(cs) then
    better = terminal(status)
  elseif utime ~= cst then
    better = utime > cst
  else
    better = status > cs
  end
  if better then
    rec.s = ARGV[o + 3]
    rec.st = ARGV[o + 4]
  end
  if ARGV[o + 5] == '1' then
    local bt = rec.bt and tonumber(rec.bt)
    if not bt or utime > bt or (utime == bt and ARGV[o + 6] > rec.b) then
      rec.b = ARGV[o + 6]
      rec.bt = ARGV[o + 4]
    end
  end
  if ARGV[o + 7] == '1' then
    local et = rec.et and tonumber(rec.et)
    if not et or utime > et or (utime == et and ARGV[o + 8] > rec.e) then
      rec.e = ARGV[o + 8]
      rec.et = ARGV[o + 4]
    end
  end
  if utime > tonumber(rec.ut) then rec.ut = ARGV[o + 4] end
  redis.call('HSET', KEYS[4], id, cjson.encode(rec))
  return rec, raw
end

local written = {} -- positions (in the keys) of the target sets added to
local changed = 0
local o = 2
while o < #ARGV do
  local op, id = ARGV[o + 1], ARGV[o + 2]
  local status, utime = tonumber(ARGV[o + 3]), tonumber(ARGV[o + 4])
  if op == 'update' then
    local t = redis.call('ZSCORE', KEYS[1], id)
    if t then t = tonumber(t) end
    if not ((t and t < cutoff) or (not t and utime < cutoff)) then
      changed = changed + 1
      local rec = merge(o, id, status, utime)
      local ut = tonumber(rec.ut)
      if not t then
        -- No mention yet (it may come later, or the message mentions nobody): keep the update
        -- pending until its updateTime leaves the retention.
        redis.call('ZADD', KEYS[5], 'GT', ARGV[o + 4], id)
        extend(4, ut + retention)
        extend(5, ut + retention)
      else
        if terminal(tonumber(rec.s)) then
          unindex(id)
        else
          render(id, redis.call('HGET', KEYS[2], id), rec, t + retention)
        end
        extend(4, math.max(t, ut) + retention)
      end
    end
    o = o + 8
  else
    local nt = tonumber(ARGV[o + 12])
    local time = tonumber(ARGV[o + 9])
    if time >= cutoff then
      changed = changed + 1
      local rec, had = merge(o, id, status, utime)
      local until_ = time + retention
      -- a pending id always has a record (both are written together, and dropped together)
      if had then redis.call('ZREM', KEYS[5], id) end
      redis.call('ZADD', KEYS[1], ARGV[o + 9], id)
      extend(1, until_)
      extend(4, math.max(time, tonumber(rec.ut)) + retention)
      if terminal(tonumber(rec.s)) then
        unindex(id)
      else
        redis.call('HSET', KEYS[2], id, ARGV[o + 10])
        redis.call('HSET', KEYS[3], id, ARGV[o + 11])
        extend(2, until_)
        extend(3, until_)
        render(id, ARGV[o + 10], rec, until_)
        local m = string.format('%016d', time) .. id
        for j = o + 13, o + 12 + nt do
          local ki = tonumber(ARGV[j])
          redis.call('ZADD', KEYS[ki], ARGV[o + 9], m)
          extend(ki, until_)
          written[ki] = true
        end
      end
    end
    o = o + 12 + nt
  end
end

-- never shortened: GT moves a later expiry, NX sets the first one (a key without one yet;
-- neither touches a key that does not exist). A key that takes NX was created by this call
-- (every call gives the keys it writes an expiry), so a new target set has nothing to prune.
local created = {}
for ki, at in pairs(expiry) do
  if redis.call('PEXPIREAT', KEYS[ki], int(at), 'GT') == 0 and redis.call('PEXPIREAT', KEYS[ki], int(at), 'NX') == 1 then created[ki] = true end
end
for ki in pairs(written) do
  if not created[ki] then redis.call('ZREMRANGEBYSCORE', KEYS[ki], '-inf', '(' .. int(cutoff)) end
end
return changed
