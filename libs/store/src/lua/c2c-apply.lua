-- c2c-apply: the one-to-one events of a batch for one owner, folded per peer (messages to
-- the owner from that peer, and the owner's read acks of that peer). A message is unread
-- for the owner unless the owner read that peer up to (or past) its time, or it is already
-- counted; a read ack moves the owner's read time for the peer forward and takes every
-- unread message at or before it out. Per peer the zset, its count and the owner's total
-- move together: the count is raised by what ZADD NX actually added and lowered by what
-- ZREMRANGEBYSCORE actually removed (fields at 0 are deleted, never negative), so
-- redelivered, duplicated or reordered events count exactly once. Messages and acks
-- commute (the final state is the same in any order), so the caller may fold any of them
-- together: one read-time check, one ZADD NX and at most one HINCRBY per peer.
--
-- KEYS[1]      hash peer → the owner's read time (ms) for that peer
-- KEYS[2]      hash peer → unread count from that peer, plus field '' → the owner's total
-- KEYS[2 + i]  zset of the owner's unread message ids from peer i, scored by time (ms)
-- ARGV, per peer i in the order of KEYS[3..]: the peer, the highest read time (ms) of its
--          acks ('' for none), the number n of messages, then n pairs: time (ms), message id
--
-- Returns the change of the owner's total (messages counted minus messages read).
local total = 0
local i, p = 0, 0
while p < #ARGV do
  i = i + 1
  local peer, ack, n = ARGV[p + 1], ARGV[p + 2], tonumber(ARGV[p + 3])
  local first, last = p + 4, p + 3 + 2 * n
  p = last
  local zset = KEYS[2 + i]
  local read = redis.call('HGET', KEYS[1], peer)
  local cut = read and tonumber(read)
  local raise = false
  if ack ~= '' and (not cut or tonumber(ack) > cut) then
    raise = true
    cut = tonumber(ack)
  end
  local added = 0
  if n > 0 then
    -- every message after the read time: added straight from ARGV, no table
    local all = true
    if cut then
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
        if tonumber(ARGV[j]) > cut then
          fresh[m + 1] = ARGV[j]
          fresh[m + 2] = ARGV[j + 1]
          m = m + 2
        end
      end
      if m > 0 then added = redis.call('ZADD', zset, 'NX', unpack(fresh)) end
    end
  end
  local removed = 0
  if raise then
    redis.call('HSET', KEYS[1], peer, ack)
    -- what was added above lies after the ack: only earlier messages go
    removed = redis.call('ZREMRANGEBYSCORE', zset, '-inf', ack)
  end
  local delta = added - removed
  if delta ~= 0 then
    total = total + delta
    if redis.call('HINCRBY', KEYS[2], peer, delta) <= 0 then redis.call('HDEL', KEYS[2], peer) end
  end
end
if total ~= 0 and redis.call('HINCRBY', KEYS[2], '', total) <= 0 then
  redis.call('HDEL', KEYS[2], '')
end
return total
