-- group-unread-set: admin override (set_unread_msg_num). REPLACES the ack component of the
-- member's record with readSeq (the gateway computed it as max(0, maxSeq - N)). Read acks
-- share its topic and key, so the ack component folds them in log order on every replay.
-- The fence is the group's max seq the gateway saw: a join or own message at or below it
-- happened before the override and no longer floors the read position (group.store.ts).
--
-- KEYS[1]  the group's state hash
-- ARGV[1]  the member's record field: 'm:' .. account
-- ARGV[2]  readSeq (decimal integer >= 0)
-- ARGV[3]  fence: the event's maxSeq (decimal integer >= 0), or '' when it carries none
--
-- A member record is "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts).
-- Returns 1.
--#include group-record

local r = rec(redis.call('HGET', KEYS[1], ARGV[1]))
r[3] = ARGV[2]
r[5] = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], enc(r))
return 1
