-- receive-option: an account's receive option for one conversation. The option with the
-- latest time wins whatever the order; at equal times the more muted one wins (Discard >
-- AcceptNotNotify > AcceptAndNotify), so duplicates and any delivery order agree.
--
-- KEYS[1]  the account's receive options hash: field 'c:<peer>' or 'g:<groupId>' →
--          '<time>:<rank>:<option>' (rank 0 AcceptAndNotify, 1 AcceptNotNotify, 2 Discard)
-- ARGV[1]  the conversation's field ('c:' .. peer or 'g:' .. groupId)
-- ARGV[2]  the option's time (Unix ms)
-- ARGV[3]  the option's rank (0, 1 or 2)
-- ARGV[4]  the option (Tencent's name)
--
-- Returns 1 when the option was stored, 0 when an option at least as recent is held.
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local t, r = string.match(held, '^(%d+):(%d+):')
  local time, rank = tonumber(ARGV[2]), tonumber(ARGV[3])
  if t and (tonumber(t) > time or (tonumber(t) == time and tonumber(r) >= rank)) then
    return 0
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[4])
return 1
