-- channel-message: folds one QChat channel message event into the channel's mention
-- projection: op "mention" (event channel-mention) or op "update" (channel-message-updated).
-- Every key lives under the channel base ARGV[1] = <prefix>:chn:{app:serverId:channelId}, so
-- the keys built here from ARGV[1] share the hash tag of KEYS[*] (one slot).
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
-- message whose record is terminal is never in a target set. An update that arrives before
-- its mention is kept in <base>:upd and listed in <base>:pend until the mention comes (or
-- until its updateTime leaves the retention).
--
-- KEYS[1]  <base>:ix    zset  every mention message of the channel: padded id -> time
-- KEYS[2]  <base>:msg   hash  padded id -> the fixed fields, pre-rendered by the store
-- KEYS[3]  <base>:from  hash  padded id -> fromAccount (the query skips the reader's own)
-- KEYS[4]  <base>:tgt   hash  padded id -> its target sets, suffixes joined by "\n"
-- KEYS[5]  <base>:upd   hash  padded id -> {s, st, ut, b, bt, e, et} (JSON, numbers as strings)
-- KEYS[6]  <base>:pend  zset  padded id with an update but no mention yet -> updateTime
-- KEYS[7]  <base>:ack   zset  account -> ack time (pruned here with the rest)
-- Target sets (not in KEYS, built from ARGV[1]): <base>:all, <base>:r:<roleId>,
-- <base>:a:<escaped account>, zsets of <time><padded id> -> time.
-- <base>:out (not in KEYS, built from ARGV[1]): hash padded id -> the message's answer JSON,
-- rendered here (mention-render.lua) whenever its fixed fields or its record change, and
-- dropped with the message, so a page is assembled by concatenation.
--
-- ARGV[1]  base
-- ARGV[2]  op: "mention" | "update"
-- ARGV[3]  padded msgIdServer
-- ARGV[4]  now (ms)
-- ARGV[5]  retention (ms): an entry lives until its message time + retention
-- ARGV[6]  status
-- ARGV[7]  updateTime (for a mention: its updateTime, or its time when absent)
-- ARGV[8]  "1" when a body is given, else "0";  ARGV[9]  body
-- ARGV[10] "1" when an ext is given, else "0";  ARGV[11] ext
-- ARGV[12] mention only: message time
-- ARGV[13] mention only: fixed fields, pre-rendered (ChannelStore renderFixedFields)
-- ARGV[14] mention only: fromAccount
-- ARGV[15] mention only: target suffixes joined by "\n" ("all", "r:<roleId>", "a:<account>")
--
-- Returns 1 when the event changed the index, 0 when it was outside the retention.
local base = ARGV[1]
local op = ARGV[2]
local id = ARGV[3]
local now = tonumber(ARGV[4])
local retention = tonumber(ARGV[5])
local status = tonumber(ARGV[6])
local utime = tonumber(ARGV[7])
local cutoff = now - retention
local PRUNE_PER_CALL = 200

local function int(n)
  return string.format('%d', n)
end

--#include mention-render
local OUT = base .. ':out'

-- Keeps a key until `at` at least (its expiry is the newest of its entries' expiries).
local function extend(key, at)
  local cur = redis.call('PEXPIRETIME', key)
  if cur == -2 then return end
  if cur == -1 or cur < at then redis.call('PEXPIREAT', key, int(at)) end
end

local function split(s)
  local out = {}
  if s then
    for part in string.gmatch(s, '[^\n]+') do out[#out + 1] = part end
  end
  return out
end

local function member(time, mid)
  return string.format('%016d', time) .. mid
end

-- Takes a message out of every target set and drops its fixed fields (not ix/upd).
local function unindex(mid)
  local tg = redis.call('HGET', KEYS[4], mid)
  local t = redis.call('ZSCORE', KEYS[1], mid)
  if tg and t then
    local m = member(tonumber(t), mid)
    for _, sfx in ipairs(split(tg)) do redis.call('ZREM', base .. ':' .. sfx, m) end
  end
  redis.call('HDEL', KEYS[2], mid)
  redis.call('HDEL', KEYS[3], mid)
  redis.call('HDEL', KEYS[4], mid)
  redis.call('HDEL', OUT, mid)
end

-- (Re)renders the answer of an indexed message from its fixed fields and record.
local function render(mid, fixed, rec, expireAt)
  local text = fixed and renderMention(mid, fixed, rec)
  if text then
    redis.call('HSET', OUT, mid, text)
    extend(OUT, expireAt)
  end
end

-- Retention: drop what is older than the cutoff (bounded per call; keys expire anyway).
local old = redis.call('ZRANGE', KEYS[1], '-inf', '(' .. int(cutoff), 'BYSCORE', 'LIMIT', 0, PRUNE_PER_CALL)
for _, mid in ipairs(old) do
  unindex(mid)
  redis.call('HDEL', KEYS[5], mid)
  redis.call('ZREM', KEYS[1], mid)
end
local oldp = redis.call('ZRANGE', KEYS[6], '-inf', '(' .. int(cutoff), 'BYSCORE', 'LIMIT', 0, PRUNE_PER_CALL)
for _, mid in ipairs(oldp) do
  redis.call('HDEL', KEYS[5], mid)
  redis.call('ZREM', KEYS[6], mid)
end
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', '(' .. int(cutoff))

local function terminal(s)
  return s == 1 or s == 2
end

-- Merges this event's status/body/ext into the last-writer-wins record.
local function merge()
  local raw = redis.call('HGET', KEYS[5], id)
  local rec
  if raw then
    rec = cjson.decode(raw)
  else
    rec = { s = ARGV[6], st = ARGV[7], ut = ARGV[7] }
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
    rec.s = ARGV[6]
    rec.st = ARGV[7]
  end
  if ARGV[8] == '1' then
    local bt = rec.bt and tonumber(rec.bt)
    if not bt or utime > bt or (utime == bt and ARGV[9] > rec.b) then
      rec.b = ARGV[9]
      rec.bt = ARGV[7]
    end
  end
  if ARGV[10] == '1' then
    local et = rec.et and tonumber(rec.et)
    if not et or utime > et or (utime == et and ARGV[11] > rec.e) then
      rec.e = ARGV[11]
      rec.et = ARGV[7]
    end
  end
  if utime > tonumber(rec.ut) then rec.ut = ARGV[7] end
  redis.call('HSET', KEYS[5], id, cjson.encode(rec))
  return rec
end

if op == 'update' then
  local t = redis.call('ZSCORE', KEYS[1], id)
  if t then t = tonumber(t) end
  if (t and t < cutoff) or (not t and utime < cutoff) then return 0 end
  local rec = merge()
  local ut = tonumber(rec.ut)
  if not t then
    -- No mention yet (it may come later, or the message mentions nobody): keep the update
    -- pending until its updateTime leaves the retention.
    redis.call('ZADD', KEYS[6], 'GT', ARGV[7], id)
    extend(KEYS[5], ut + retention)
    extend(KEYS[6], ut + retention)
    return 1
  end
  if terminal(tonumber(rec.s)) then
    unindex(id)
  else
    render(id, redis.call('HGET', KEYS[2], id), rec, t + retention)
  end
  extend(KEYS[5], math.max(t, ut) + retention)
  return 1
end

-- op == 'mention'
local time = tonumber(ARGV[12])
if time < cutoff then return 0 end
local rec = merge()
redis.call('ZREM', KEYS[6], id)
redis.call('ZADD', KEYS[1], ARGV[12], id)
extend(KEYS[1], time + retention)
extend(KEYS[5], math.max(time, tonumber(rec.ut)) + retention)
if terminal(tonumber(rec.s)) then
  unindex(id)
  return 1
end
local prev = redis.call('HGET', KEYS[4], id)
if prev and prev ~= ARGV[15] then unindex(id) end
redis.call('HSET', KEYS[2], id, ARGV[13])
redis.call('HSET', KEYS[3], id, ARGV[14])
redis.call('HSET', KEYS[4], id, ARGV[15])
for _, k in ipairs({ KEYS[2], KEYS[3], KEYS[4] }) do extend(k, time + retention) end
render(id, ARGV[13], rec, time + retention)
local m = member(time, id)
for _, sfx in ipairs(split(ARGV[15])) do
  local key = base .. ':' .. sfx
  redis.call('ZADD', key, ARGV[12], m)
  extend(key, time + retention)
end
return 1
