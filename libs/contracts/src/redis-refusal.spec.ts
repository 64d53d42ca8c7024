import { REDIS_WAIT_CLASSES, SCRIPT_REFUSAL_PREFIX, classifyRedisError } from './redis-refusal';

/** An error shaped as ioredis reports a Redis error reply. */
function reply(message: string): Error {
  const e = new Error(message);
  e.name = 'ReplyError';
  return e;
}

describe('classifyRedisError', () => {
  // The replies real servers give (Redis 7.0 texts, as seen in the refusal tests).
  it.each<[string, string]>([
    ["OOM command not allowed when used memory > 'maxmemory'.", 'oom'],
    ['NOREPLICAS Not enough good replicas to write.', 'noreplicas'],
    ['MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.', 'misconf'],
    ["READONLY You can't write against a read only replica.", 'readonly'],
    ["NOPERM this user has no permissions to run the 'evalsha' command", 'noperm'],
    ['LOADING Redis is loading the dataset in memory', 'loading'],
    ['BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.', 'busy'],
    ['MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no.', 'masterdown'],
    ['CLUSTERDOWN The cluster is down', 'clusterdown'],
    ['TRYAGAIN Multiple keys request during rehashing of slot', 'tryagain'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'wrongtype'],
    ["ERR Error running script (call to f_abc): @user_script:12: Script attempted to access nonexistent global variable 'x'", 'script_error'],
    ['ERR user_script:3: attempt to compare nil with number script: abc, on @user_script:3.', 'script_error'],
    ["OOM command not allowed when used memory > 'maxmemory'. script: 8c2f, on @user_script:20.", 'oom'],
    ['ERR something nobody has seen before', 'unknown'],
  ])('%s waits (%s)', (message, cls) => {
    expect(classifyRedisError(reply(message))).toEqual({ kind: 'wait', class: cls });
    expect(REDIS_WAIT_CLASSES).toContain(cls);
  });

  it('a lost connection or a timeout waits as unreachable', () => {
    expect(classifyRedisError(new Error('Connection is closed.'))).toEqual({ kind: 'wait', class: 'unreachable' });
    expect(classifyRedisError('boom')).toEqual({ kind: 'wait', class: 'unreachable' });
  });

  it("only a script's deliberate refusal is the event's fault", () => {
    expect(classifyRedisError(reply(`${SCRIPT_REFUSAL_PREFIX} count would overflow`))).toEqual({ kind: 'refuse', reason: 'count would overflow' });
    expect(classifyRedisError(reply(`ERR ${SCRIPT_REFUSAL_PREFIX}: bad seq script: abc, on @user_script:4.`))).toEqual({
      kind: 'refuse',
      reason: 'bad seq script: abc, on @user_script:4.',
    });
    expect(classifyRedisError(reply(SCRIPT_REFUSAL_PREFIX))).toEqual({ kind: 'refuse', reason: 'refused by a script' });
    // The prefix must be a word of its own, and a non-reply error never refuses.
    expect(classifyRedisError(reply('ERR XUNREAD-REFUSED'))).toEqual({ kind: 'wait', class: 'unknown' });
    expect(classifyRedisError(new Error(`${SCRIPT_REFUSAL_PREFIX} x`))).toEqual({ kind: 'wait', class: 'unreachable' });
  });
});
