import { registered } from './support/accounts';
import { Keyspace } from '@app/store';
import { Harness } from './support/harness';
import { waitFor } from './support/wait';

describe('foundation: projector and gateway against the mock broker and redis-server', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start();
  });
  afterAll(async () => {
    await h.stop();
  });

  it('answers /health/live and /health/ready', async () => {
    const live = await fetch(`${h.gateway!.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${h.gateway!.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', redis: 'up' });
  });

  it('serves Prometheus metrics with each API answer code by route', async () => {
    await fetch(`${h.gateway!.url}/v4/openim/get_c2c_unread_msg_num`, { method: 'POST', body: '{}' });
    const res = await fetch(`${h.gateway!.adminUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^unread_gateway_request_seconds_count\{route="\/v4\/openim\/get_c2c_unread_msg_num",code="60012"\} 1$/m);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers unknown Tencent routes with HTTP 200, ActionStatus FAIL, ErrorCode 60009', async () => {
    const res = await fetch(`${h.gateway!.url}/v4/openim/no_such_command?sdkappid=1&identifier=a&usersig=x&random=1&contenttype=json`, {
      method: 'POST',
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ActionStatus: 'FAIL',
      ErrorCode: 60009,
      ErrorInfo: 'request resource not found: POST /v4/openim/no_such_command',
    });
  });

  it('answers unknown QChat routes with HTTP 200 and code 404', async () => {
    const res = await fetch(`${h.gateway!.url}/nimserver/qchat/noSuchThing.action`, { method: 'POST', body: 'a=1' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ code: 404, desc: 'no such API: /nimserver/qchat/noSuchThing.action' });
  });

  it('applies account-registered from the directory topic', async () => {
    await h.send({ type: 'account-registered', appId: '1400000001', account: 'alice' });
    const keys = new Keyspace(h.config.redis.keyPrefix);
    await waitFor(() => registered(h.redis, keys, '1400000001', 'alice'), (v) => v === 1, { what: 'alice registered' });
  });

  it('dead-letters invalid events with the reason and goes on', async () => {
    const topic = h.topics.directory;
    await h.producer.sendRaw(topic, [
      { key: 'same-partition', value: '{not json' },
      { key: 'same-partition', value: JSON.stringify({ type: 'account-registered', appId: '1400000001' }) },
      { key: 'same-partition', value: JSON.stringify({ type: 'account-registered', appId: '1400000001', account: 42 }) },
      { key: 'same-partition', value: JSON.stringify({ type: 'no-such-type', appId: '1400000001' }) },
      { key: 'same-partition', value: JSON.stringify({ type: 'message-sent', scope: 'c2c', appId: '1', msgId: 'm', from: 'a', to: 'b', time: 1 }) },
      { key: 'same-partition', value: JSON.stringify({ type: 'account-registered', appId: '1400000001', account: 'bob' }) },
    ]);
    const letters = await h.deadLetters(5);
    const reasons = letters.map((l) => l.headers['x-unread-reason']);
    expect(reasons).toEqual([
      expect.stringMatching(/^invalid JSON: /),
      'account must be a non-empty string of at most 256 characters without control characters',
      'account must be a non-empty string of at most 256 characters without control characters',
      'unknown type "no-such-type"',
      'type "message-sent" does not belong on the directory topic',
    ]);
    expect(letters[0]).toMatchObject({ value: '{not json', headers: { 'x-unread-source-topic': topic } });
    const keys = new Keyspace(h.config.redis.keyPrefix);
    await waitFor(() => registered(h.redis, keys, '1400000001', 'bob'), (v) => v === 1, { what: 'bob registered after the poison' });
  });
});
