#!lua
-- batch: many projection writes in one call. The projector folds every write its batches
-- issue in one tick (write scripts and plain commands, libs/store/src/write.ts) into one call
-- per Redis node (on a Redis Cluster one per slot: Redis refuses declared keys of several
-- slots in one call), instead of one EVALSHA per write. Each write runs exactly as its own
-- call would, in the order given, and touches only keys declared in KEYS (the shebang makes
-- Redis hold it to that). A slot the node no longer serves makes the whole call fail before
-- anything runs (MOVED/ASK), and the caller sends its writes one by one
-- (libs/store/src/batch-writer.ts). A write that raises an error stops the call there (the
-- writes before it stay applied); the caller then sends every write of the call alone, so
-- each gets its own reply or error (writes are idempotent).
--
-- The write scripts are appended below this header by BatchWriter as
-- `S['<name>'] = function(_k, _a, _nk, _na) <the script's body> end`, its shebang and comment
-- lines stripped (the header lives in the script's own file): the body reads its KEYS and ARGV as the slices of this call's that start after _k
-- and _a (`KEYS[i]` is rewritten `KEYS[_k + i]`, `#ARGV` is `_na`), so no table is built per
-- write.
--
-- KEYS     the keys of every write, in order
-- ARGV     per write: its head "<code> <nk> <na>" (code: a script name, or a Redis command
--          name; nk its number of keys, na its number of arguments), then its na arguments;
--          its keys are the next nk of KEYS (a script gets them as its KEYS; a command's na
--          arguments are its whole argument list, keys included, and its KEYS only declare
--          them). One argument, not three: every argument costs Redis a string object and a
--          Lua string, and heads repeat, so each distinct one is parsed once per call.
--
-- Returns one reply per write, in order (false for a nil reply).
local S = {}
--#scripts
local heads = setmetatable({}, { __index = function(t, h)
  local i = string.find(h, ' ', 1, true)
  local j = string.find(h, ' ', i + 1, true)
  local v = { string.sub(h, 1, i - 1), tonumber(string.sub(h, i + 1, j - 1)), tonumber(string.sub(h, j + 1)) }
  t[h] = v
  return v
end })
local out = {}
local n, k, a = 0, 0, 0
local nargv = #ARGV
while a < nargv do
  local head = heads[ARGV[a + 1]]
  local code, nk, na = head[1], head[2], head[3]
  a = a + 1
  local fn = S[code]
  local res
  if fn then
    res = fn(k, a, nk, na)
  else
    res = redis.call(code, unpack(ARGV, a + 1, a + na))
  end
  k = k + nk
  a = a + na
  n = n + 1
  if res == nil then out[n] = false else out[n] = res end
end
return out
