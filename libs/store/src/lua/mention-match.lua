-- mention-match (included by channel-query.lua and channel-count.lua): the one rule for
-- whether a member of one of an account's target sets is an unread mention of it, given the
-- member's message's target entry (<base>:tgt, "<fromAccount>\n<time, 16 digits>\n<suffix>\n…";
-- nil when the message is recalled, deleted or pruned). It counts unless the entry is
-- missing, the account sent it, the member's time is not the message's, or none of the
-- message's target sets is one of the account's (retargeted: target sets are only added to,
-- channel-message.lua). `mine` lists the account's suffixes, each as "\n<suffix>\n".
-- Every test is a plain find from a known position (no string.sub, so no new string per
-- member but the member's time prefix): Lua interns every string it makes, and these run for
-- every member a page or a count looks at.
local function mentionCounts(m, entry, account, mine)
  if not entry then return false end
  local nl = string.find(entry, '\n', 1, true)
  if not nl then return false end
  -- the sender: the entry's first line is the account (same length, and the account at 1)
  if nl - 1 == #account and string.find(entry, account, 1, true) == 1 then return false end
  -- the member's time is the message's: the entry's 16 digits after the sender's line
  if string.find(entry, string.sub(m, 1, 16), nl + 1, true) ~= nl + 1 then return false end
  -- one of the message's target sets ("\n<suffix>\n", from the newline after the time) is the account's
  local from = nl + 17
  for i = 1, #mine do
    if string.find(entry, mine[i], from, true) then return true end
  end
  return false
end
