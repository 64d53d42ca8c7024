-- group-record: the member record shared by the group scripts (included with
-- `--#include group-record`, see scripts.ts). A record is
-- "<member 0|1>:<joinSeq>:<ackSeq>:<ownSeq>[:<fence>]" (see group.store.ts); rec() parses it
-- into { member, joinSeq, ackSeq, ownSeq, fence } (fence '' when absent; a missing or
-- unreadable record is all zero), enc() writes it back.
local function rec(v)
  if v then
    local m, j, a, s, f = string.match(v, '^([01]):(%d+):(%d+):(%d+):?(%d*)$')
    if m then return { m, j, a, s, f } end
  end
  return { '0', '0', '0', '0', '' }
end

local function enc(r)
  if r[5] == '' then return r[1] .. ':' .. r[2] .. ':' .. r[3] .. ':' .. r[4] end
  return r[1] .. ':' .. r[2] .. ':' .. r[3] .. ':' .. r[4] .. ':' .. r[5]
end
