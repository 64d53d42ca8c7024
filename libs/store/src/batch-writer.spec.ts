import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { foldable } from './batch-writer';
import { ALL_SCRIPTS, WRITE_SCRIPT_LIST } from './scripts';

describe('folding write scripts into batch.lua', () => {
  it('rewrites KEYS/ARGV indexing to slices of the folded call', () => {
    const lua = "local n = #ARGV\nredis.call('HSET', KEYS[1], ARGV[i + 1], #KEYS)\nreturn redis.call('ZADD', KEYS[2], unpack(ARGV, p + 4, last))";
    expect(foldable('x', lua)).toBe(
      "local n = _na\nredis.call('HSET', KEYS[_k + 1], ARGV[_a + i + 1], _nk)\nreturn redis.call('ZADD', KEYS[_k + 2], unpack(ARGV, _a + p + 4, _a + last))",
    );
  });

  it('refuses a script that uses KEYS or ARGV other than by index', () => {
    expect(() => foldable('x', 'return unpack(ARGV)')).toThrow('lua/x.lua uses ARGV other than by index');
    expect(() => foldable('x', 'for _, k in ipairs(KEYS) do end')).toThrow('lua/x.lua uses KEYS other than by index');
  });

  it('folds every write script of the catalog, and the catalog holds every script of lua/', () => {
    for (const s of WRITE_SCRIPT_LIST) expect(() => foldable(s.name, s.lua)).not.toThrow();
    // batch.lua is the fold itself; group-record, mention-render and mention-match are included by others
    const helpers = new Set(['batch', 'group-record', 'mention-render', 'mention-match']);
    const files = readdirSync(join(__dirname, 'lua'))
      .map((f) => f.replace(/\.lua$/, ''))
      .filter((n) => !helpers.has(n))
      .sort();
    expect(ALL_SCRIPTS.map((s) => s.name).sort()).toEqual(files);
  });
});
