-- channel-ack: advances an account's ack time in a QChat channel (read-ack scope channel, and
-- the sender's own message-sent scope channel). The ack time is a max, so redelivery and any
-- interleaving with other topics give the same result.
--
-- An ack older than the retention is the same as no ack (the query never looks below
-- now - retention), so such acks are not stored and stored ones are pruned once they fall
-- out of it; the key expires with its newest ack.
--
-- KEYS[1]  <base>:ack  zset  account -> ack time
-- ARGV[1]  account
-- ARGV[2]  ack time (ms): that message and every earlier one is read
-- ARGV[3]  now (ms)
-- ARGV[4]  retention (ms)
--
-- Returns 1 when stored (or already at least that high), 0 when outside the retention.
local ack = tonumber(ARGV[2])
local cutoff = tonumber(ARGV[3]) - tonumber(ARGV[4])
local function int(n)
  return string.format('%d', n)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. int(cutoff))
if ack < cutoff then return 0 end
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
local at = ack + tonumber(ARGV[4])
local cur = redis.call('PEXPIRETIME', KEYS[1])
if cur == -1 or cur < at then redis.call('PEXPIREAT', KEYS[1], int(at)) end
return 1
