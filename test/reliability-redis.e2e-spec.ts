import type { Admin } from 'kafkajs';
import type Redis from 'ioredis';
import { REDIS } from '@app/store';
import { expectModelCounts, modelCounts } from './support/count-model';
import { Harness } from './support/harness';
import { drainedGroup, offsets, sendDrained } from './support/projector-process';
import { qchatPost } from './support/qchat-client';
import { tencentPost } from './support/tencent';
import { waitFor } from './support/wait';
import { Workload, type Ev } from './support/workload';

const TIMEOUT_MS = 400;
const C2C = 'openim/get_c2c_unread_msg_num';
const MENTIONS = 'queryChannelUnReadMentionedMsgPage.action';

describe('reliability: Redis unavailable', () => {
  let h: Harness;
  let admin: Admin;
  const w = new Workload(2);
  const sent: Ev[] = [];

  beforeAll(async () => {
    // appendonly: the data survives RedisServer.kill()/restart(), so the outage is only an outage.
    h = await Harness.start({ redisArgs: ['--appendonly', 'yes'], env: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) } });
    admin = h.kafka.admin();
    await admin.connect();
    await sendDrained(h, sent, w.setup());
    await sendDrained(h, sent, w.traffic(200));
  });
  afterAll(async () => {
    await admin.disconnect();
    await h.stop();
  });

  const query = () => ({
    tencent: tencentPost(h.gateway!.url, C2C, { To_Account: w.accounts[0] }),
    qchat: qchatPost(h.gateway!.url, MENTIONS, { accid: w.accounts[1]!, serverId: w.serverId, channelId: w.channels[0]! }),
  });

  it('answers the internal-timeout shapes (70169, QChat 503) within the request timeout while Redis does not answer, then recovers', async () => {
    await h.redis.call('CLIENT', 'PAUSE', '3000', 'ALL');
    const started = Date.now();
    const { tencent, qchat } = query();
    const [t, q] = await Promise.all([tencent, qchat]);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1_000);
    expect(t.status).toBe(200);
    expect(t.body).toEqual({ ActionStatus: 'FAIL', ErrorCode: 70169, ErrorInfo: expect.stringMatching(/^internal server timeout, retry \(request [0-9a-f-]{36}\)$/) });
    expect(q).toEqual({ status: 200, body: { code: 503, desc: expect.stringMatching(/^server busy \(request [0-9a-f-]{36}\)$/) } });
    const ready = await waitFor(() => fetch(`${h.gateway!.url}/health/ready`).then((r) => r.status), (s) => s === 200, { what: 'ready again' });
    expect(ready).toBe(200);
    const again = await query().tencent;
    expect(again.body).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
  });

  it('holds the projector (no offset passes an unapplied event) while Redis is down, answers 91000 / QChat 500 at once, and resumes exactly when Redis returns', async () => {
    const before = (await offsets(admin, h.config)).committed;
    await h.redisServer.kill();

    const started = Date.now();
    const { tencent, qchat } = query();
    const [t, q] = await Promise.all([tencent, qchat]);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
    expect(t).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 91000, ErrorInfo: expect.stringMatching(/^internal server error, retry \(request [0-9a-f-]{36}\)$/) },
    });
    expect(q).toEqual({ status: 200, body: { code: 500, desc: expect.stringMatching(/^internal error \(request [0-9a-f-]{36}\)$/) } });
    const notReady = await fetch(`${h.gateway!.url}/health/ready`);
    expect(notReady.status).toBe(503);
    expect((await fetch(`${h.gateway!.url}/health/live`)).status).toBe(200);

    const during = w.traffic(200);
    sent.push(...during);
    await h.send(...during);
    // The projector has the new records and holds their writes (queued in its client) …
    const projectorRedis = h.projector!.app.get<Redis>(REDIS);
    await waitFor(() => (projectorRedis as unknown as { offlineQueue: { length: number } }).offlineQueue.length, (n) => n > 0, {
      what: 'the projector to hold writes while Redis is down',
    });
    // … and commits nothing meanwhile.
    const { committed, high } = await offsets(admin, h.config);
    expect(committed).toEqual(before);
    expect(Object.values(high).reduce((a, b) => a + b, 0)).toBeGreaterThan(Object.values(before).reduce((a, b) => a + b, 0));

    await h.redisServer.restart();
    await drainedGroup(h.kafka, h.config);

    await expectModelCounts(h.redis, h.config.redis.keyPrefix, sent, h.config.mentionRetentionMs);

    // The gateway recovers by itself, with the exact count.
    const expected = modelCounts(sent).c2cTotal[`${w.tencentApp} ${w.accounts[0]!}`];
    const ok = await waitFor(() => query().tencent, (r) => r.body.ActionStatus === 'OK', { what: 'the gateway to answer again' });
    expect(ok).toEqual({ status: 200, body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: expected } });
  });
});
