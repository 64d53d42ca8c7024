-- group-created: the group exists, with its type and name. A group id created again after
-- a dismissal exists again (its seqs are expected to keep growing).
--
-- KEYS[1]  the group's state hash
-- ARGV[1]  group type (Private, Work, Public, ChatRoom, Meeting, AVChatRoom, Community)
-- ARGV[2]  name ('' when the event carries none)
--
-- Returns 1.
redis.call('HSET', KEYS[1], 'type', ARGV[1], 'name', ARGV[2], 'state', '1')
return 1
