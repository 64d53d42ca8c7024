import { Keyspace } from '@app/store';
import { migrateAccounts } from '../apps/tools/src/migrate-accounts.command';
import { registered } from './support/accounts';
import { Harness, TENCENT_APP } from './support/harness';
import { tencentPost } from './support/tencent';

/**
 * Data of the previous layout (account existence in one set per tenant) keeps answering,
 * and `migrate-accounts` moves it to each account's own marker (docs/projections.md, "Directory").
 */
describe('account existence: the per-tenant set of earlier versions', () => {
  let h: Harness;
  let keys: Keyspace;
  const app = TENCENT_APP.sdkAppId;

  beforeAll(async () => {
    h = await Harness.start({ projector: false });
    keys = new Keyspace(h.config.redis.keyPrefix);
  });
  afterAll(async () => {
    await h.stop();
  });

  const total = async (account: string) =>
    (await tencentPost(h.gateway!.url, 'openim/get_c2c_unread_msg_num', { To_Account: account })).body;

  it('is read as a fallback, then migrated to per-account markers', async () => {
    await h.redis.sadd(keys.legacyAccounts(app), 'old-alice', 'old-bob');
    await h.redis.hset(keys.c2cCounts(app, 'old-alice'), '', '4', 'old-bob', '4');
    expect(await total('old-alice')).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: 4 });
    expect(await total('nobody')).toEqual({ ActionStatus: 'FAIL', ErrorCode: 90003, ErrorInfo: 'To_Account nobody does not exist' });
    const perPeer = await tencentPost(h.gateway!.url, 'openim/get_c2c_unread_msg_num', { To_Account: 'old-alice', Peer_Account: ['old-bob', 'nobody'] });
    expect(perPeer.body).toEqual({
      ActionStatus: 'OK',
      ErrorCode: 0,
      ErrorInfo: '',
      C2CUnreadMsgNumList: [{ Peer_Account: 'old-bob', C2CUnreadMsgNum: 4 }],
      ErrorList: [{ Peer_Account: 'nobody', ErrorCode: 70107 }],
    });

    expect(await migrateAccounts(h.config)).toEqual({ generation: 0, tenants: 1, accounts: 2 });
    expect(await h.redis.exists(keys.legacyAccounts(app))).toBe(0);
    expect(await registered(h.redis, keys, app, 'old-alice')).toBe(1);
    expect(await registered(h.redis, keys, app, 'old-bob')).toBe(1);
    expect(await total('old-alice')).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: 4 });
    expect(await total('old-bob')).toEqual({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: 0 });
    // a second run finds nothing left to move
    expect(await migrateAccounts(h.config)).toEqual({ generation: 0, tenants: 0, accounts: 0 });
  });
});
