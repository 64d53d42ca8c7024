import { Harness, NETEASE_APP, TENCENT_APP } from './support/harness';
import { drained } from './support/drain';

/**
 * The account summary API (docs/api/summary.md): the exact answer for a known event stream
 * produced through the broker and the projector, its limit, and its auth.
 */
const APP = NETEASE_APP.appKey;
const KEY = 'summary-key-of-the-netease-app-0001';
const OTHER_KEY = 'summary-key-of-the-tencent-app-0001';
const T0 = Date.now() - 60_000;

describe('GET /v1/apps/{appId}/accounts/{account}/unread', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({
      env: {
        TENANTS_JSON: JSON.stringify({
          tencent: [{ ...TENCENT_APP, apiKey: OTHER_KEY }],
          netease: [{ ...NETEASE_APP, apiKey: KEY }],
        }),
      },
    });
    const c2c = (from: string, to: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ type: 'message-sent', scope: 'c2c', appId: APP, msgId: `${from}-${to}-${i}`, from, to, time: T0 + i }));
    const group = (groupId: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ type: 'message-sent', scope: 'group', appId: APP, msgId: `${groupId}-${i}`, groupId, from: 'bob', seq: i + 1, time: T0 + i }));
    const mention = (channelId: string, id: string, target: Record<string, unknown>) => ({
      type: 'channel-mention',
      appId: APP,
      serverId: '5',
      channelId,
      message: { msgIdServer: id, fromAccount: 'bob', time: T0 + Number(id), body: 'hi' },
      mentionAll: false,
      mentionAccids: [],
      mentionRoleIds: [],
      ...target,
    });
    await h.send(
      ...['alice', 'bob', 'carol', 'dave', 'erin'].map((account) => ({ type: 'account-registered', appId: APP, account })),
      ...c2c('bob', 'alice', 3),
      ...c2c('carol', 'alice', 1),
      ...c2c('dave', 'alice', 2),
      ...c2c('erin', 'alice', 2),
      { type: 'read-ack', scope: 'c2c', appId: APP, account: 'alice', peer: 'carol', readTime: T0 + 10 },
      { type: 'group-created', appId: APP, groupId: 'g-public', groupType: 'Public' },
      { type: 'group-created', appId: APP, groupId: 'g-work', groupType: 'Work' },
      { type: 'group-created', appId: APP, groupId: 'g-live', groupType: 'AVChatRoom' },
      { type: 'group-created', appId: APP, groupId: 'g-read', groupType: 'Private' },
      ...['g-public', 'g-work', 'g-live', 'g-read'].map((groupId) => ({ type: 'group-member-joined', appId: APP, groupId, account: 'alice', seq: 0 })),
      ...group('g-public', 5),
      ...group('g-work', 2),
      ...group('g-live', 4),
      ...group('g-read', 3),
      { type: 'read-ack', scope: 'group', appId: APP, account: 'alice', groupId: 'g-work', readSeq: 1 },
      { type: 'read-ack', scope: 'group', appId: APP, account: 'alice', groupId: 'g-read', readSeq: 3 },
      { type: 'qchat-server-member-joined', appId: APP, serverId: '5', account: 'alice' },
      { type: 'qchat-role-member-added', appId: APP, serverId: '5', roleId: '77', account: 'alice' },
      ...['50', '51', '52'].map((channelId) => ({ type: 'qchat-channel-created', appId: APP, serverId: '5', channelId })),
      mention('50', '1', { mentionAll: true }),
      mention('50', '2', { mentionAccids: ['alice'] }),
      mention('51', '3', { mentionRoleIds: ['77'] }),
      mention('51', '4', { mentionRoleIds: ['78'] }),
    );
    await drained(h);
  });
  afterAll(async () => {
    await h.stop();
  });

  async function get(path: string, token: string | null = KEY): Promise<{ status: number; type: string | null; body: unknown }> {
    const res = await fetch(`${h.gateway!.url}${path}`, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
  }

  it('answers every section for a known event stream', async () => {
    expect(await get(`/v1/apps/${APP}/accounts/alice/unread`)).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: {
        appId: APP,
        account: 'alice',
        c2c: {
          total: 7,
          conversations: [
            { peer: 'bob', unread: 3 },
            { peer: 'dave', unread: 2 },
            { peer: 'erin', unread: 2 },
          ],
        },
        groups: { total: 6, items: [{ groupId: 'g-public', unread: 5 }, { groupId: 'g-work', unread: 1 }] },
        channels: {
          total: 3,
          items: [
            { serverId: '5', channelId: '50', unread: 2, more: false },
            { serverId: '5', channelId: '51', unread: 1, more: false },
          ],
        },
        badge: 16,
      },
    });
  });

  it('cuts each section at limit (totals stay whole)', async () => {
    expect(await get(`/v1/apps/${APP}/accounts/alice/unread?limit=1`)).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      body: {
        appId: APP,
        account: 'alice',
        c2c: { total: 7, conversations: [{ peer: 'bob', unread: 3 }] },
        groups: { total: 6, items: [{ groupId: 'g-public', unread: 5 }] },
        channels: { total: 3, items: [{ serverId: '5', channelId: '50', unread: 2, more: false }] },
        badge: 16,
      },
    });
    for (const bad of ['0', '101', 'x', '1.5']) {
      expect(await get(`/v1/apps/${APP}/accounts/alice/unread?limit=${bad}`)).toEqual({
        status: 400,
        type: 'application/json; charset=utf-8',
        body: { statusCode: 400, message: 'limit must be an integer from 1 to 100' },
      });
    }
  });

  it('answers 404 for an account that is not registered', async () => {
    expect(await get(`/v1/apps/${APP}/accounts/nobody/unread`)).toEqual({
      status: 404,
      type: 'application/json; charset=utf-8',
      body: { statusCode: 404, message: 'account nobody not found' },
    });
  });

  it('answers 401 with a JSON error, never data, for missing or wrong credentials', async () => {
    const path = `/v1/apps/${APP}/accounts/alice/unread`;
    const missing = { status: 401, type: 'application/json; charset=utf-8', body: { statusCode: 401, message: 'missing bearer token' } };
    const wrong = { status: 401, type: 'application/json; charset=utf-8', body: { statusCode: 401, message: 'invalid credentials for this app' } };
    expect(await get(path, null)).toEqual(missing);
    const res = await fetch(`${h.gateway!.url}${path}`, { headers: { Authorization: `Basic ${KEY}` } });
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 401, body: missing.body });
    expect(await get(path, 'not-the-key')).toEqual(wrong);
    // another tenant's key does not open this tenant, nor an app that does not exist
    expect(await get(path, OTHER_KEY)).toEqual(wrong);
    expect(await get(`/v1/apps/no-such-app/accounts/alice/unread`, KEY)).toEqual(wrong);
  });
});
