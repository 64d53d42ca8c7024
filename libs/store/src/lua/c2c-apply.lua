-- c2c-apply: the one-to-one events of a batch for one owner, folded per peer (messages to
-- the owner from that peer, recalls of them, and the owner's read acks of that peer). A
-- message is unread for the owner unless the owner read that peer up to (or past) its
-- time, it was recalled, or it is already counted; a read ack moves the owner's read time
-- for the peer forward and takes every unread message at or before it out; a recall takes
-- the message out if it is counted and leaves a tombstone in the peer's tombstone list
-- (field `\2<peer>` of KEYS[1]), so the message applied or re-applied later never counts.
-- A recall at or before the read time needs no tombstone: such a message never counts (the
-- read time only moves forward). For the same reason a tombstone goes once the read time
-- reaches its message's time (pruned by the ack that moves the read time there): every
-- later message-sent of that id is refused by the read time alone, and the state is the
-- one the recall would have left had it come after the ack. So a peer's list holds only
-- recalls after the owner's read time for that peer. Per peer the zset, its count and the
-- owner's total move together: the count is raised by what ZADD NX actually added and
-- lowered by what ZREM and ZREMRANGEBYSCORE actually removed (fields at 0 are deleted, never
-- negative), so redelivered, duplicated or reordered events count exactly once. Messages,
-- recalls and acks commute (the final state is the same in any order: this call applies a
-- peer's ack, then its recalls, then its messages, which is one of those orders), so the
-- caller may fold any of them together: one HMGET of every peer's read time and tombstone
-- list, one ZADD NX and at most one HINCRBY per peer.
--
-- The cap (ARGV[1], docs/projections.md, "The cap"): a peer's zset holds the newest `cap`
-- unread ids at most. When the adds take a peer's count (what HINCRBY answers: the zset's
-- size) past it, the oldest ids go (ZREMRANGEBYRANK) and the count and the total drop by
-- as many; below the cap nothing more runs. Trimming from the bottom commutes with a read
-- ack (which also takes from the bottom) and with adds, so the count is min(exact, cap)
-- whatever the order, up to recalls of tracked messages past the cap (the docs state the
-- bound). A trimming write also drops the peer's tombstones older than the oldest id it
-- keeps: such a message, applied again, is trimmed again at the cap.
--
-- KEYS[1]      hash peer → the owner's read time (ms) for that peer; field '\2<peer>' → the
--              peer's tombstones, '\n<message id>\t<time>' for each (control characters:
--              no id holds one), absent when there are none
-- KEYS[2]      hash peer → unread count from that peer, plus field '' → the owner's total
-- KEYS[2 + i]  zset of the owner's unread message ids from peer i, scored by time (ms)
-- ARGV[1]      the cap: unread ids kept per peer at most (a positive integer)
-- ARGV, then, per peer i in the order of KEYS[3..]: the peer, then "<n> <r> <ack>" (the number n
--          of messages, the number r of recalls, the highest read time (ms) of its acks, empty
--          for none: one argument, as each costs Redis a string object and a Lua string),
--          then n pairs time (ms), message id (the messages), then r pairs time (ms), message id
--          (the recalled messages)
--          Or, for one peer with one message and no recall or ack (most calls), just four:
--          the cap, the peer, the message's time (ms), its id (every other ARGV has an odd
--          length)
--
-- Returns the change of the owner's total (messages counted minus messages read, recalled
-- or trimmed); when the write pruned anything, the list {that change, ids trimmed at the
-- cap, tombstones dropped (by an ack or at the cap), peers whose zset was trimmed}.
local total = 0
local cap = ARGV[1] + 0
-- The tombstones of `tombs` (a peer's list, as stored) whose time is at or after `from`,
-- as a list again (nil when none is left), and how many were dropped.
local function tombsFrom(tombs, from)
  local kept, nk, dropped = {}, 0, 0
  for id, t in string.gmatch(tombs, '\n([^\t\n]*)\t(%d+)') do
    if tonumber(t) >= from then
      kept[nk + 1] = '\n' .. id .. '\t' .. t
      nk = nk + 1
    else
      dropped = dropped + 1
    end
  end
  return nk > 0 and table.concat(kept) or nil, dropped
end
-- Trims the zset of `peer`, whose count `n` passed the cap, to its newest `cap` ids, and
-- drops the peer's tombstones (`tombs`, as stored) older than the oldest id kept. Returns
-- the ids trimmed and the tombstones dropped.
local function trim(zset, peer, n, tombs)
  local call = redis.call
  local removed = call('ZREMRANGEBYRANK', zset, 0, n - cap - 1)
  call('HSET', KEYS[2], peer, string.format('%d', n - removed))
  local dropped = 0
  if tombs then
    local kept
    kept, dropped = tombsFrom(tombs, tonumber(call('ZRANGE', zset, 0, 0, 'WITHSCORES')[2]))
    if dropped > 0 then
      if kept then call('HSET', KEYS[1], '\2' .. peer, kept) else call('HDEL', KEYS[1], '\2' .. peer) end
    end
  end
  return removed, dropped
end
if #ARGV == 4 then
  -- one message from one peer: what the general path below does for it, without parsing
  local call, peer, id, counts = redis.call, ARGV[2], ARGV[4], KEYS[2]
  local reads = call('HMGET', KEYS[1], peer, '\2' .. peer)
  if reads[1] and ARGV[3] + 0 <= reads[1] + 0 then return 0 end
  if reads[2] and string.find(reads[2], '\n' .. id .. '\t', 1, true) then return 0 end
  if call('ZADD', KEYS[3], 'NX', ARGV[3], id) == 0 then return 0 end
  local n = call('HINCRBY', counts, peer, '1')
  if n <= 0 then
    call('HDEL', counts, peer)
  elseif n > cap then
    -- the message took the zset past the cap by one: one id goes and the total stays (more
    -- go when the cap was lowered since the zset filled)
    local removed, dropped = trim(KEYS[3], peer, n, reads[2])
    if removed ~= 1 then
      total = 1 - removed
      if call('HINCRBY', counts, '', string.format('%d', total)) <= 0 then call('HDEL', counts, '') end
    end
    return { total, removed, dropped, 1 }
  end
  if call('HINCRBY', counts, '', '1') <= 0 then call('HDEL', counts, '') end
  return 1
end
local trimmed, tombsDropped, capped = 0, 0, 0
-- the read time and tombstone list of every peer in one HMGET: reads[2i - 1] and reads[2i]
-- are peer i's; a write has at most 1000 messages but may have more peers (acks), so the
-- fields go 1000 at a time (unpack's stack bounds a call's arguments)
local reads, p
if #KEYS == 3 then
  reads = redis.call('HMGET', KEYS[1], ARGV[2], '\2' .. ARGV[2])
else
  local fields, np = {}, 0
  p = 1
  while p < #ARGV do
    fields[np + 1] = ARGV[p + 1]
    fields[np + 2] = '\2' .. ARGV[p + 1]
    np = np + 2
    local h = ARGV[p + 2]
    local a = string.find(h, ' ', 1, true)
    local b = string.find(h, ' ', a + 1, true)
    p = p + 2 + 2 * (tonumber(string.sub(h, 1, a - 1)) + tonumber(string.sub(h, a + 1, b - 1)))
  end
  if np <= 1000 then
    reads = redis.call('HMGET', KEYS[1], unpack(fields))
  else
    reads = {}
    for s = 1, np, 1000 do
      local part = redis.call('HMGET', KEYS[1], unpack(fields, s, math.min(s + 999, np)))
      for j = 1, #part do reads[s + j - 1] = part[j] end
    end
  end
end
local i
i, p = 0, 1
while p < #ARGV do
  i = i + 1
  local peer, h = ARGV[p + 1], ARGV[p + 2]
  local ack, n, r
  if h == '1 0 ' then
    -- most peers have one message, no recall, no ack: nothing to parse
    n, r, ack = 1, 0, ''
  else
    local a = string.find(h, ' ', 1, true)
    local b = string.find(h, ' ', a + 1, true)
    n, r, ack = tonumber(string.sub(h, 1, a - 1)), tonumber(string.sub(h, a + 1, b - 1)), string.sub(h, b + 1)
  end
  local first, last = p + 3, p + 2 + 2 * n
  local rfirst, rlast = last + 1, last + 2 * r
  p = rlast
  local zset = KEYS[2 + i]
  local read = reads[2 * i - 1]
  local tombs = reads[2 * i] or nil
  local tombsChanged = false
  local cut = read and tonumber(read)
  local raise = false
  if ack ~= '' and (not cut or tonumber(ack) > cut) then
    raise = true
    cut = tonumber(ack)
  end
  local removed = 0
  if raise then
    redis.call('HSET', KEYS[1], peer, ack)
    removed = redis.call('ZREMRANGEBYSCORE', zset, '-inf', ack)
    if tombs then
      -- tombstones at or before the new read time can never matter again: pruned (times
      -- are whole milliseconds, so "after cut" is "from cut + 1")
      local dropped
      tombs, dropped = tombsFrom(tombs, cut + 1)
      tombsDropped = tombsDropped + dropped
      tombsChanged = true
    end
  end
  -- recalls of messages after the read time: tombstone, and out of the zset if counted
  for j = rfirst, rlast, 2 do
    if not cut or tonumber(ARGV[j]) > cut then
      local id = ARGV[j + 1]
      if not (tombs and string.find(tombs, '\n' .. id .. '\t', 1, true)) then
        tombs = (tombs or '') .. '\n' .. id .. '\t' .. ARGV[j]
        tombsChanged = true
      end
      removed = removed + redis.call('ZREM', zset, id)
    end
  end
  if tombsChanged then
    if tombs then redis.call('HSET', KEYS[1], '\2' .. peer, tombs) else redis.call('HDEL', KEYS[1], '\2' .. peer) end
  end
  local added = 0
  if n > 0 then
    -- every message after the read time and never recalled: added straight from ARGV
    local all = not tombs
    if all and cut then
      for j = first, last, 2 do
        if tonumber(ARGV[j]) <= cut then
          all = false
          break
        end
      end
    end
    if all then
      added = redis.call('ZADD', zset, 'NX', unpack(ARGV, first, last))
    else
      local fresh, m = {}, 0
      for j = first, last, 2 do
        local id = ARGV[j + 1]
        if (not cut or tonumber(ARGV[j]) > cut)
          and not (tombs and string.find(tombs, '\n' .. id .. '\t', 1, true)) then
          fresh[m + 1] = ARGV[j]
          fresh[m + 2] = id
          m = m + 2
        end
      end
      if m > 0 then added = redis.call('ZADD', zset, 'NX', unpack(fresh)) end
    end
  end
  local delta = added - removed
  if delta ~= 0 then
    -- a string, not a number: Redis formats a number argument with %.17g, the costliest part
    -- of an HINCRBY here
    local c = redis.call('HINCRBY', KEYS[2], peer, delta == 1 and '1' or string.format('%d', delta))
    if c <= 0 then
      redis.call('HDEL', KEYS[2], peer)
    elseif delta > 0 and c > cap then
      local gone, dropped = trim(zset, peer, c, tombs)
      delta = delta - gone
      trimmed = trimmed + gone
      tombsDropped = tombsDropped + dropped
      capped = capped + 1
    end
    total = total + delta
  end
end
if total ~= 0 and redis.call('HINCRBY', KEYS[2], '', total == 1 and '1' or string.format('%d', total)) <= 0 then
  redis.call('HDEL', KEYS[2], '')
end
if trimmed > 0 or tombsDropped > 0 or capped > 0 then return { total, trimmed, tombsDropped, capped } end
return total
