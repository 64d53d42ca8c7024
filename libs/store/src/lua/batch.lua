#!lua flags=allow-cross-slot-keys
-- batch: many projection writes in one call. The projector folds every write its batches
-- issue in one tick (the family scripts below, and plain commands) into one call per Redis
-- node, instead of one EVALSHA per event. Each write runs exactly as its own script would,
-- in the order given, under pcall: a write that fails (a wrong type, a bad argument) fails
-- alone and is reported in its slot of the reply; the others still run. The flag lets one
-- call touch keys of several slots that the node serves (Redis Cluster, Redis >= 7); a key
-- of a slot the node does not serve makes the whole call fail before anything runs
-- (MOVED/ASK), and the caller splits it (libs/store/src/batch-writer.ts).
--
-- The family scripts are appended below this header by BatchWriter as
-- `S[i] = function(KEYS, ARGV) <the script's body> end`, each keeping its own header.
--
-- KEYS     the keys of every write, in order
-- ARGV     per write: its code (a script number, or a Redis command name), its number of
--          keys n, its number of arguments m, then its m arguments; its keys are the next n
--          of KEYS (a script gets them as its KEYS; a command's m arguments are its whole
--          argument list, keys included, and its KEYS only declare them)
--
-- Returns {replies, failures}: replies holds one element per write, in order (its reply;
-- false for nil and for a write that failed); failures lists, for each write that failed,
-- its position (1-based) and its error message.
local S = {}
--#scripts
local out, failed = {}, {}
local n = 0
local k, a = 0, 1
local nargv = #ARGV
while a <= nargv do
  local code = ARGV[a]
  local nk = tonumber(ARGV[a + 1])
  local na = tonumber(ARGV[a + 2])
  local keys, args = {}, {}
  for j = 1, nk do keys[j] = KEYS[k + j] end
  for j = 1, na do args[j] = ARGV[a + 2 + j] end
  k = k + nk
  a = a + 3 + na
  local fn = S[tonumber(code)]
  local ok, res
  if fn then
    ok, res = pcall(fn, keys, args)
  else
    ok, res = pcall(redis.call, code, unpack(args))
  end
  n = n + 1
  if ok then
    if res == nil then out[n] = false else out[n] = res end
  else
    out[n] = false
    failed[#failed + 1] = n
    if type(res) == 'table' and res.err then failed[#failed + 1] = res.err else failed[#failed + 1] = tostring(res) end
  end
end
return {out, failed}
