-- group-recall: a group message's seq stops counting for every member (a recall, or a
-- message sent with noUnread: group-message-uncounted.lua marks it the same way). O(1)
-- whatever the group's size: no member is touched. The seq joins the group's set of seqs
-- that do not count; a member's unread is max(0, max − readSeq) minus the members of that
-- set in (readSeq, max] (one ZCOUNT at read time, GroupStore). A set is idempotent and
-- order-free, so a recall before its message, duplicates and redelivery all agree.
--
-- KEYS[1]  the group's state hash: field 'nc' counts the set's entries (readers skip the
--          ZCOUNT of groups without it)
-- KEYS[2]  the group's set of seqs that do not count (zset, score = member = seq)
-- ARGV[1]  seq (decimal integer >= 1)
--
-- Returns 1 when the seq was new in the set, 0 for a repeat.
if redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'nc', 1)
return 1
