-- group-dismissed: the group answers as not existing from now on. Member records are
-- dropped (UNLINK frees them off the main thread, whatever the group's size); max, type and
-- name stay with the dismissed mark, so a late message or ack cannot bring the group back.
--
-- KEYS[1]  the group's state hash
--
-- Returns 1.
local meta = redis.call('HMGET', KEYS[1], 'max', 'type', 'name')
redis.call('UNLINK', KEYS[1])
redis.call('HSET', KEYS[1], 'state', '0')
if meta[1] then redis.call('HSET', KEYS[1], 'max', meta[1]) end
if meta[2] then redis.call('HSET', KEYS[1], 'type', meta[2]) end
if meta[3] then redis.call('HSET', KEYS[1], 'name', meta[3]) end
return 1
