-- generation-fence: extends the switch fence's lifetime while the rebuild that set it is
-- still working (so a dead rebuild's fence expires and the live projectors resume).
--
-- KEYS[1]  the switch fence (string "<generation> <token>")
-- ARGV[1]  the fence value the rebuild set
-- ARGV[2]  new time to live in ms
--
-- Returns 1 when extended, 0 when the fence is gone or not ours.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
