import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { foldable } from './batch-writer';
import { readScript } from './scripts';

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

  it('folds every write script of the store', () => {
    // every script a store loads with script() is embedded in the folded call (channel-query too)
    const reads = new Set(['batch', 'rate-lease', 'mention-render', 'group-record', 'generation-fence', 'generation-flip']);
    const names = readdirSync(join(__dirname, 'lua'))
      .map((f) => f.replace(/\.lua$/, ''))
      .filter((n) => !reads.has(n));
    expect(names.length).toBeGreaterThan(10);
    for (const n of names) expect(() => foldable(n, readScript(n))).not.toThrow();
  });
});
