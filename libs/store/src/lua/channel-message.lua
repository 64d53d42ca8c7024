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
-- KEYS[2]  <base>:tgt   hash  padded id -> "<fromAccount>\n<time, 16 digits>\n" then each
--                             target set suffix followed by "\n"
-- KEYS[3]  <base>:upd   hash  padded id -> {s, st, ut, b, bt, e, et, f} (JSON, numbers as
--                             strings): the record, and f the message's fixed fields, pre-
--                             rendered by the store (qchat-wire.ts renderFixedFields), once its
--                             mention came and while it is not terminal
-- KEYS[4]  <base>:pend  zset  padded id with an update but no mention yet -> updateTime
-- KEYS[5]  <base>:out   hash  padded id -> the message's answer JSON, rendered here
--                             (mention-render.lua) whenever its record changes (or as the
--                             store rendered it, for a mention with no record before),
--                             dropped with the message: a page is a concatenation
-- KEYS[6]  <base>:chk   zset  the members to check one by one when counting (channel-count.lua):
--                             <time><padded id> -> time, for every member of a target set
--                             that may not count exactly once for every reader of that set:
--                             a message in two or more target sets, one recalled or deleted
--                             after it was indexed, and both members of a message mentioned
--                             again with another entry (other targets, time or sender)
-- KEYS[7]  <base>:since string the newest message time this channel's projection held when
--                             the first call that keeps <base>:chk and the senders' sets ran
--                             ("-1": none); members at or before it are counted one by one
-- KEYS[8..] the target sets the mentions of this call are indexed in (<base>:all,
--          <base>:r:<roleId>, <base>:a:<escaped account>, zsets of <time><padded id> ->
--          time), and the senders' sets <base>:o:<escaped account> of the messages that
--          @-mention all or a role (the sender's own members of those sets, same form)
-- ARGV[1]  now (ms)
-- ARGV[2]  retention (ms): an entry lives until its message time + retention
-- then per event, from its offset o:
-- ARGV[o+1]  op: "mention" | "update"
-- ARGV[o+2]  padded msgIdServer
-- ARGV[o+3]  status
-- ARGV[o+4]  updateTime (for a mention: its updateTime, or its time when absent)
-- update only:
-- ARGV[o+5]  "1" when a body is given, else "0";  ARGV[o+6]  body
-- ARGV[o+7]  "1" when an ext is given, else "0";  ARGV[o+8]  ext
-- mention only:
-- ARGV[o+5]  message time
-- ARGV[o+6]  its own record as <base>:upd holds it: {s, st, ut, b, bt, e, et, f} with st,
--            bt and et its updateTime, b and e only when given, f its fixed fields unless its
--            status is terminal (JSON, numbers as strings); stored as is when the message has
--            no record yet, else merged into it
-- ARGV[o+7]  its answer rendered from the fixed fields and its own record (qchat-wire.ts
--            renderMentionAnswer, byte for byte what mention-render.lua gives; empty when its
--            status is terminal): stored as is when the message has no record yet, else
--            rendered here from the merged record
-- ARGV[o+8]  its <base>:tgt entry ("<fromAccount>\n<time>\n<suffix>\n…")
-- ARGV[o+9]  the number nt of its target sets, then ARGV[o+10..o+9+nt] their positions in KEYS
-- ARGV[o+10+nt]  the position in KEYS of its sender's set (a message that @-mentions all or a
--            role), else 0
--
-- Returns the number of events that changed the projection (the others were outside the
-- retention).
-- Numbers from strings by arithmetic (`s + 0`) rather than tonumber(s), which converts twice;
-- every numeric argument is a decimal the store wrote.
local now = ARGV[1] + 0
local retention = ARGV[2] + 0
local cutoff = now - retention
local PRUNE_PER_CALL = 200

-- string.format is costly: each distinct expiry of the call is formatted once
local formatted = {}
local function int(n)
  local s = formatted[n]
  if not s then
    s = string.format('%d', n)
    formatted[n] = s
  end
  return s
end
local below = '(' .. int(cutoff)

-- The count's marker (KEYS[7]): the newest message time held before this script kept
-- <base>:chk and the senders' sets (older projections did not), so the count checks those
-- older members one by one. Read here, before this call's mentions; set at the end.
local since
if redis.call('EXISTS', KEYS[7]) == 0 then
  local top = redis.call('ZRANGE', KEYS[1], '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
  since = top[2] and top[2] + 0 or -1
end

--#include mention-render

-- Expiries to set at the end of the call: KEYS position -> the newest expiry asked for.
local expiry = {}
local function extend(i, at)
  local cur = expiry[i]
  if not cur or at > cur then expiry[i] = at end
end

-- Takes a message out of the answers: its target entry and rendered answer (not ix/upd; a
-- terminal record drops its fixed fields itself). Its members left in target sets no longer
-- count (no target entry).
local function unindex(mid)
  redis.call('HDEL', KEYS[2], mid)
  redis.call('HDEL', KEYS[5], mid)
end

-- Adds member m (a message at `time`) to the set at KEYS position ki: a target set, a
-- sender's set or <base>:chk. Each lives until its message time + retention, and the sets
-- added to are pruned at the end.
local written = {} -- positions (in the keys) of the sets added to
local function addMember(ki, time, m)
  redis.call('ZADD', KEYS[ki], time, m)
  extend(ki, time + retention)
  written[ki] = true
end

-- Lists the member of target entry `entry` of message `mid` in <base>:chk (it no longer
-- counts as its sets' counts say).
local function check(mid, entry)
  local nl = string.find(entry, '\n', 1, true)
  local t = string.sub(entry, nl + 1, nl + 16)
  addMember(6, t + 0, t .. mid)
end

-- unindex for a message that may be indexed: its members are listed for checking first.
local function retire(mid)
  local entry = redis.call('HGET', KEYS[2], mid)
  if entry then check(mid, entry) end
  unindex(mid)
end

-- (Re)renders the answer of an indexed message from its fixed fields and record.
local function render(mid, fixed, rec, expireAt)
  local text = fixed and renderMention(mid, fixed, rec)
  if text then
    redis.call('HSET', KEYS[5], mid, text)
    extend(5, expireAt)
  end
end

-- Retention: drop what is older than the cutoff (bounded per call; keys expire anyway).
local old = redis.call('ZRANGE', KEYS[1], '-inf', below, 'BYSCORE', 'LIMIT', 0, PRUNE_PER_CALL)
for _, mid in ipairs(old) do
  unindex(mid)
  redis.call('HDEL', KEYS[3], mid)
  redis.call('ZREM', KEYS[1], mid)
end
local oldp = redis.call('ZRANGE', KEYS[4], '-inf', below, 'BYSCORE', 'LIMIT', 0, PRUNE_PER_CALL)
for _, mid in ipairs(oldp) do
  redis.call('HDEL', KEYS[3], mid)
  redis.call('ZREM', KEYS[4], mid)
end

local function terminal(s)
  return s == 1 or s == 2
end

-- Merges a write (status s at updateTime ut, as strings, and as numbers status and utime; a
-- body b unless nil, an ext e unless nil) into the last-writer-wins record rec.
local function merge(rec, s, ut, status, utime, b, e)
  local cs, cst = rec.s + 0, rec.st + 0
  local better
  if terminal(status) ~= terminal(cs) then
    better = terminal(status)
  elseif utime ~= cst then
    better = utime > cst
  else
    better = status > cs
  end
  if better then
    rec.s = s
    rec.st = ut
  end
  if b then
    local bt = rec.bt and rec.bt + 0
    if not bt or utime > bt or (utime == bt and b > rec.b) then
      rec.b = b
      rec.bt = ut
    end
  end
  if e then
    local et = rec.et and rec.et + 0
    if not et or utime > et or (utime == et and e > rec.e) then
      rec.e = e
      rec.et = ut
    end
  end
  if utime > rec.ut + 0 then rec.ut = ut end
end

local changed = 0
local o = 2
local nargv = #ARGV
while o < nargv do
  local op, id = ARGV[o + 1], ARGV[o + 2]
  local status, utime = ARGV[o + 3] + 0, ARGV[o + 4] + 0
  if op == 'update' then
    local t = redis.call('ZSCORE', KEYS[1], id)
    if t then t = t + 0 end
    if not ((t and t < cutoff) or (not t and utime < cutoff)) then
      changed = changed + 1
      local raw = redis.call('HGET', KEYS[3], id)
      local rec = raw and cjson.decode(raw) or { s = ARGV[o + 3], st = ARGV[o + 4], ut = ARGV[o + 4] }
      merge(rec, ARGV[o + 3], ARGV[o + 4], status, utime, ARGV[o + 5] == '1' and ARGV[o + 6] or nil, ARGV[o + 7] == '1' and ARGV[o + 8] or nil)
      local fixed = rec.f
      if terminal(rec.s + 0) then rec.f = nil end
      redis.call('HSET', KEYS[3], id, cjson.encode(rec))
      local ut = rec.ut + 0
      if not t then
        -- No mention yet (it may come later, or the message mentions nobody): keep the update
        -- pending until its updateTime leaves the retention.
        redis.call('ZADD', KEYS[4], 'GT', ARGV[o + 4], id)
        extend(3, ut + retention)
        extend(4, ut + retention)
      else
        if terminal(rec.s + 0) then
          retire(id)
        else
          render(id, fixed, rec, t + retention)
        end
        extend(3, math.max(t, ut) + retention)
      end
    end
    o = o + 8
  else
    local nt = ARGV[o + 9] + 0
    local time = ARGV[o + 5] + 0
    if time >= cutoff then
      changed = changed + 1
      local until_ = time + retention
      -- the common case, no record yet: the mention's own is stored as is (HSETNX: one command)
      local raw = redis.call('HSETNX', KEYS[3], id, ARGV[o + 6]) == 0 and redis.call('HGET', KEYS[3], id)
      local rec, s, ut
      if raw then
        -- an update came first, or this is a redelivery: merge the mention's own record into
        -- the stored one (a pending id always has a record: both are written together, and
        -- dropped together)
        rec = cjson.decode(raw)
        local own = cjson.decode(ARGV[o + 6])
        merge(rec, own.s, own.ut, status, utime, own.b, own.e)
        if terminal(rec.s + 0) then rec.f = nil else rec.f = own.f end
        redis.call('HSET', KEYS[3], id, cjson.encode(rec))
        redis.call('ZREM', KEYS[4], id)
        s, ut = rec.s + 0, rec.ut + 0
      else
        -- the record is the mention's own, and so is the answer
        s, ut = status, utime
      end
      redis.call('ZADD', KEYS[1], ARGV[o + 5], id)
      extend(1, until_)
      extend(3, math.max(time, ut) + retention)
      if terminal(s) then
        if raw then retire(id) else unindex(id) end
      else
        -- a message mentioned again with another entry: both its members are checked
        local prev = raw and redis.call('HGET', KEYS[2], id)
        local again = prev and prev ~= ARGV[o + 8]
        if again then check(id, prev) end
        redis.call('HSET', KEYS[2], id, ARGV[o + 8])
        extend(2, until_)
        if rec then
          render(id, rec.f, rec, until_)
        else
          redis.call('HSET', KEYS[5], id, ARGV[o + 7])
          extend(5, until_)
        end
        -- the member: the time, 16 digits, as the target entry has it after the sender, then the id
        local tgt = ARGV[o + 8]
        local nl = string.find(tgt, '\n', 1, true)
        local m = string.sub(tgt, nl + 1, nl + 16) .. id
        for j = o + 10, o + 9 + nt do addMember(ARGV[j] + 0, time, m) end
        if again or nt > 1 then addMember(6, time, m) end
        local own = ARGV[o + 10 + nt] + 0
        if own > 0 then addMember(own, time, m) end
      end
    end
    o = o + 10 + nt
  end
end

-- The marker lives as long as the channel's newest entry: set with the call's latest expiry
-- (or its own time's, if later), then pushed with every call's. A call that writes nothing
-- sets none (with no marker the count checks every member).
local last
for _, at in pairs(expiry) do
  if not last or at > last then last = at end
end
if last and since then
  redis.call('SET', KEYS[7], int(since), 'PXAT', int(math.max(last, since + retention)))
elseif last then
  extend(7, last)
end

-- never shortened: GT moves a later expiry, NX sets the first one (a key without one yet;
-- neither touches a key that does not exist). A key that takes NX was created by this call
-- (every call gives the keys it writes an expiry), so a new target set has nothing to prune.
local created = {}
for ki, at in pairs(expiry) do
  local ms = int(at)
  if redis.call('PEXPIREAT', KEYS[ki], ms, 'GT') == 0 and redis.call('PEXPIREAT', KEYS[ki], ms, 'NX') == 1 then created[ki] = true end
end
for ki in pairs(written) do
  if not created[ki] then redis.call('ZREMRANGEBYSCORE', KEYS[ki], '-inf', below) end
end
return changed
