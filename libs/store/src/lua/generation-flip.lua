-- generation-flip: switches readers and writers to a rebuilt projection generation, but
-- only while the rebuild that built it still holds the switch fence (a fence that expired
-- because its rebuild stalled lets the live projectors go on, so that rebuild must not flip).
--
-- KEYS[1]  the active generation pointer (string: the generation number)
-- KEYS[2]  the switch fence (string "<generation> <token>", set with PX by the rebuild)
-- ARGV[1]  the generation to activate
-- ARGV[2]  the fence value the rebuild set ("<generation> <token>")
--
-- Returns 1 when switched (pointer set, fence removed), 0 when the fence is not ours.
if redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
