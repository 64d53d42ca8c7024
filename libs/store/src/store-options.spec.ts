import { envDeclaration } from '@app/config';
import { C2cStore } from './c2c.store';
import { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { DEFAULT_C2C_UNREAD_CAP } from './store-options';

describe('StoreOptions', () => {
  it("a store given no cap uses C2C_UNREAD_CAP's default", () => {
    expect(String(DEFAULT_C2C_UNREAD_CAP)).toBe(envDeclaration('C2C_UNREAD_CAP').default);
    expect(new C2cStore({} as RedisClient, new Keyspace('u')).cap).toBe(DEFAULT_C2C_UNREAD_CAP);
  });

  it('a cap that is no positive integer is refused, and every c2c-apply write carries the cap first', () => {
    for (const cap of [0, -1, 2.5, Number.NaN]) expect(() => new C2cStore({} as RedisClient, new Keyspace('u'), cap)).toThrow(`c2c unread cap must be a positive integer, got ${cap}`);
    const store = new C2cStore({} as RedisClient, new Keyspace('u'), 7);
    const one = store.writes([{ type: 'message-sent', scope: 'c2c', appId: 'a', msgId: 'm', from: 'p', to: 'o', time: 5 }]);
    expect(one.map((w) => w.args)).toEqual([['7', 'p', '5', 'm']]);
    const folded = store.writes([
      { type: 'message-sent', scope: 'c2c', appId: 'a', msgId: 'm', from: 'p', to: 'o', time: 5 },
      { type: 'read-ack', scope: 'c2c', appId: 'a', account: 'o', peer: 'q', readTime: 9 },
    ]);
    expect(folded.map((w) => w.args)).toEqual([['7', 'p', '1 0 ', '5', 'm', 'q', '0 0 9']]);
  });
});
