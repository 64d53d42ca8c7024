-- mention-match (included by channel-query.lua and channel-count.lua): the one rule for
-- whether a member of one of an account's target sets is an unread mention of it, given the
-- member's message's target entry (<base>:tgt, "<fromAccount>\n<time, 16 digits>\n<suffix>\n…";
-- nil when the message is recalled, deleted or pruned). It counts unless the entry is
-- missing, the account sent it, the member's time is not the message's, or none of the
-- message's target sets is one of the account's (retargeted: target sets are only added to,
-- channel-message.lua). `mine` lists the account's suffixes, each as "\n<suffix>\n".
local function mentionCounts(m, entry, account, mine)
  if not entry then return false end
  local nl = string.find(entry, '\n', 1, true)
  if not nl or string.sub(entry, 1, nl - 1) == account then return false end
  if string.sub(entry, nl + 1, nl + 16) ~= string.sub(m, 1, 16) then return false end
  local targets = string.sub(entry, nl + 17)
  for _, sfx in ipairs(mine) do
    if string.find(targets, sfx, 1, true) then return true end
  end
  return false
end
