import { expectModelCounts } from './support/count-model';
import { Harness } from './support/harness';
import { drainedGroup, sendDrained } from './support/projector-process';
import { tencentPost } from './support/tencent';
import { waitFor } from './support/wait';
import { Workload, type Ev } from './support/workload';

const TIMEOUT_MS = 800;

describe('reliability: broker unavailable', () => {
  let h: Harness;
  const w = new Workload(3);
  const sent: Ev[] = [];

  beforeAll(async () => {
    h = await Harness.start({ env: { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) } });
    await sendDrained(h, sent, w.setup());
    await sendDrained(h, sent, w.traffic(200));
  });
  afterAll(async () => {
    await h.broker.command('up 1').catch(() => undefined);
    await h.stop();
  });

  it('answers admin writes with 70169 within the request timeout while the broker is down; the projector reconnects and catches up with nothing lost or doubled', async () => {
    // A read ack that changes nothing (an earlier one of the same pair exists), so whether
    // the timed-out produce still lands once the broker is back cannot change the projection.
    const earlier = sent.find((e) => e.type === 'read-ack' && e.scope === 'c2c') as Ev & { account: string; peer: string };
    await h.broker.command('down 1');
    const started = Date.now();
    const r = await tencentPost(h.gateway!.url, 'openim/admin_set_msg_read', {
      Report_Account: earlier.account,
      Peer_Account: earlier.peer,
      MsgReadTime: 0,
    });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1_000);
    expect(r).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 70169, ErrorInfo: expect.stringMatching(/^internal server timeout, retry \(request [0-9a-f-]{36}\)$/) },
    });
    // Reads do not need the broker.
    const read = await tencentPost(h.gateway!.url, 'openim/get_c2c_unread_msg_num', { To_Account: w.accounts[0] });
    expect(read.body).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });

    await h.broker.command('up 1');
    const during = w.traffic(200);
    sent.push(...during);
    await h.send(...during);
    await drainedGroup(h.kafka, h.config, undefined, 60_000);
    await expectModelCounts(h.redis, h.config.redis.keyPrefix, sent, h.config.mentionRetentionMs);

    // The gateway's producer recovers by itself.
    const ok = await waitFor(
      () => tencentPost(h.gateway!.url, 'openim/admin_set_msg_read', { Report_Account: earlier.account, Peer_Account: earlier.peer, MsgReadTime: 0 }),
      (res) => res.body.ActionStatus === 'OK',
      { timeoutMs: 20_000, intervalMs: 200, what: 'admin writes to succeed again' },
    );
    expect(ok.body).toMatchObject({ ActionStatus: 'OK', ErrorCode: 0 });
  });
});
