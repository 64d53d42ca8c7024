-- mention-render (included by channel-message.lua): a mention's answer JSON, rendered when
-- the message or its last-writer-wins record changes, so the query only concatenates.
--
-- fixed: the fixed fields as ChannelStore.renderFixedFields writes them: three JSON member
-- lists joined by "\n" (JSON text never holds a raw newline). rec: the record as a Lua table
-- (s, ut, b, e: strings). Output, in the vendor's member order:
-- {"msgIdServer":<id without padding>, seg1 "updateTime":…,"status":…, seg2 "body":…, seg3 "ext":…}
-- Strings are escaped as JSON.stringify escapes them: '"', '\' and control characters below
-- 0x20 (\b \f \n \r \t, else \u00xx), everything else (UTF-8 included) as is. Returns nil
-- when `fixed` is not in that form.
local MENTION_ESC = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
-- Plain finds and one class scan instead of gsub and captures: rendering ran the pattern
-- matcher over every byte of the fixed fields and the body, a large share of a mention's cost.
local function jsonString(s)
  if not string.find(s, '[%z\1-\31"\\]') then return '"' .. s .. '"' end
  local e = string.gsub(s, '[%z\1-\31"\\]', function(c)
    return MENTION_ESC[c] or string.format('\\u%04x', string.byte(c))
  end)
  return '"' .. e .. '"'
end

local function renderMention(paddedId, fixed, rec)
  local a = string.find(fixed, '\n', 1, true)
  local b = a and string.find(fixed, '\n', a + 1, true)
  if not b or string.find(fixed, '\n', b + 1, true) then return nil end
  local s1, s2, s3 = string.sub(fixed, 1, a - 1), string.sub(fixed, a + 1, b - 1), string.sub(fixed, b + 1)
  local nz = string.find(paddedId, '[^0]')
  local mid = nz and string.sub(paddedId, nz) or '0'
  return '{"msgIdServer":' .. mid .. ',' .. s1 .. '"updateTime":' .. rec.ut .. ',"status":' .. rec.s .. ',' .. s2
    .. '"body":' .. jsonString(rec.b or '') .. ',' .. s3 .. '"ext":' .. jsonString(rec.e or '') .. '}'
end
