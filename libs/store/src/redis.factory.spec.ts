import { reconnectOnReadonly } from './redis.factory';

describe('reconnectOnReadonly', () => {
  it('reconnects (and fails the command) on a demoted primary’s READONLY reply, on nothing else', () => {
    expect(reconnectOnReadonly(new Error("READONLY You can't write against a read only replica."))).toBe(1);
    expect(reconnectOnReadonly(new Error('ERR unknown command'))).toBe(false);
    expect(reconnectOnReadonly(new Error('LOADING Redis is loading the dataset in memory'))).toBe(false);
    expect(reconnectOnReadonly(new Error('Connection is closed.'))).toBe(false);
  });
});
