-- positions: records how far Redis holds a partition's events, in the same generation as
-- the projections (docs/reliability.md, "Applied positions"). The projector runs it for
-- each batch only after every write of the batch succeeded: in the same folded call, after
-- them, when they all went in one (batch.lua stops at the first error, and a script's effects
-- replicate as one transaction), else once Redis acknowledged every one, on the same
-- connection. So a Redis that holds a position holds every write before it, including a
-- replica promoted after a failover (replication keeps the order). It moves only forward,
-- and only from the position of the previous batch: if Redis does not hold that one (a
-- promoted replica that missed writes, a restart without persistence, an old snapshot), it
-- refuses and says what it holds, and the projector re-applies from there.
--
-- KEYS[1]  hash '<topic>/<partition>' → offset of the last event applied (a max)
-- ARGV[1]  the field ('<topic>/<partition>')
-- ARGV[2]  offset Redis must already hold: the previous batch's last offset (-1: none)
-- ARGV[3]  the batch's last offset
--
-- Returns 'ok' when recorded; otherwise what Redis holds: the offset, -1 when it holds
-- nothing for the partition, -2 when it holds no positions at all.
local held = redis.call('HGET', KEYS[1], ARGV[1])
local prev = tonumber(ARGV[2])
if not held then
  if prev >= 0 then
    if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
    return -1
  end
elseif tonumber(held) < prev then
  return tonumber(held)
end
if not held or tonumber(held) < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
return 'ok'
