import type { Admin } from 'kafkajs';
import { Harness } from './support/harness';
import { drainedGroup } from './support/projector-process';
import { qchatHeaders } from './support/qchat-client';
import { tencentUrl } from './support/tencent';
import { prng } from './support/random';
import { Workload } from './support/workload';

const TENCENT_APIS = [
  'openim/get_c2c_unread_msg_num',
  'openim/admin_set_msg_read',
  'group_open_http_svc/set_unread_msg_num',
  'group_open_http_svc/get_joined_group_list',
];
const QCHAT_APIS = ['queryChannelUnReadMentionedMsgPage.action'];
const PER_API = 120;

/** Generates hostile input: valid-looking ids and hostile values, mixed, from one seed. */
class Fuzzer {
  private readonly rnd: () => number;
  constructor(
    seed: number,
    private readonly ids: string[],
  ) {
    this.rnd = prng(seed);
  }
  private int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  string(): string {
    return this.pick([
      () => this.pick(this.ids),
      () => '',
      () => ' ',
      () => 'a\u0000b',
      () => '\u0007\u001b[31m',
      () => '💥'.repeat(1 + this.int(200)),
      () => 'é'.repeat(300),
      () => '\ud800',
      () => '%7B}{:%',
      () => '../../etc/passwd',
      () => '<script>alert(1)</script>',
      () => 'x'.repeat(257),
      () => '@TGS#' + this.int(1e6),
      () => '1e309',
      () => '-1',
      () => '18446744073709551616',
      () => '0x10',
    ])();
  }
  number(): number | string {
    return this.pick<() => number | string>([
      () => 0,
      () => -1,
      () => -2147483649,
      () => 4294967296,
      () => Number.MAX_SAFE_INTEGER + 2,
      () => 1e308,
      () => 0.5,
      () => this.int(1000),
      () => '10',
    ])();
  }
  value(depth = 0): unknown {
    const r = this.rnd();
    if (r < 0.3) return this.string();
    if (r < 0.5) return this.number();
    if (r < 0.55) return null;
    if (r < 0.6) return this.rnd() < 0.5;
    if (r < 0.8 && depth < 3) return Array.from({ length: this.pick([0, 1, 10, 11, 50, 2000]) }, () => (depth > 0 ? this.string() : this.value(depth + 1)));
    if (depth < 3) return Object.fromEntries(Array.from({ length: this.int(4) }, () => [this.string().slice(0, 20), this.value(depth + 1)]));
    return this.string();
  }
  /** A JSON object with the API's field names (and some others) set to hostile values. */
  tencentBody(): string {
    const fields = ['To_Account', 'Peer_Account', 'Report_Account', 'MsgReadTime', 'GroupId', 'Member_Account', 'UnreadMsgNum', 'Limit', 'Offset', 'GroupType', 'ResponseFilter', '__proto__', 'constructor'];
    const r = this.rnd();
    if (r < 0.08) return '{"To_Account":';
    if (r < 0.12) return '';
    if (r < 0.15) return 'null';
    if (r < 0.18) return '[]';
    if (r < 0.2) return '{"To_Account":"a","To_Account":"b"}';
    if (r < 0.22) return JSON.stringify({ To_Account: 'x'.repeat(1024 * 1024) });
    if (r < 0.24) return '\u0000\u0001{}';
    const body: Record<string, unknown> = {};
    for (const f of fields) if (this.rnd() < 0.4) body[f] = f === 'Peer_Account' && this.rnd() < 0.5 ? Array.from({ length: this.pick([1, 10, 11, 100]) }, () => this.pick(this.ids)) : this.value();
    return JSON.stringify(body);
  }
  qchatBody(): string {
    const r = this.rnd();
    if (r < 0.05) return 'x'.repeat(1024 * 1024);
    if (r < 0.1) return '%zz=%%&accid';
    if (r < 0.15) return 'accid=a&accid=b&serverId=1&serverId=2';
    if (r < 0.2) return '{"accid":"a"}';
    const form = new URLSearchParams();
    for (const f of ['accid', 'serverId', 'channelId', 'timeTag', 'limit', 'other']) {
      if (this.rnd() < 0.7) form.append(f, this.rnd() < 0.5 ? String(this.number()) : this.string());
    }
    return form.toString();
  }
  contentType(json: boolean): string | undefined {
    return this.pick([json ? 'application/json' : 'application/x-www-form-urlencoded;charset=utf-8', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', undefined, 'application/json; charset=latin1']);
  }
  query(): string {
    return this.pick(['', 'sdkappid=1', 'contenttype=xml', 'random=-1', 'identifier=x&identifier=y', 'usersig=', '%zz']);
  }
}

describe('fuzz: hostile HTTP input answers the documented error shapes', () => {
  let h: Harness;
  let admin: Admin;
  const w = new Workload(7);

  beforeAll(async () => {
    h = await Harness.start({ env: { TENCENT_RATE_LIMIT: '1000000', QCHAT_RATE_LIMIT: '1000000' } });
    admin = h.kafka.admin();
    await admin.connect();
    await h.send(...w.setup(), ...w.traffic(50));
    await drainedGroup(h.kafka, h.config);
  });
  afterAll(async () => {
    await admin.disconnect();
    await h.stop();
  });

  it.each(TENCENT_APIS)('%s: HTTP 200 with {ActionStatus, ErrorCode, ErrorInfo} and never an internal error', async (api) => {
    const f = new Fuzzer(api.length * 7919, [...w.accounts, ...w.groups]);
    for (let i = 0; i < PER_API; i++) {
      const body = f.tencentBody();
      const ct = f.contentType(true);
      const res = await fetch(tencentUrl(h.gateway!.url, api, { extra: i % 5 === 0 ? f.query() : undefined }), {
        method: 'POST',
        headers: ct ? { 'content-type': ct } : {},
        body,
      });
      const text = await res.text();
      const context = `${api} #${i} body ${body.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
      expect([context, res.status]).toEqual([context, 200]);
      expect([context, res.headers.get('content-type')]).toEqual([context, expect.stringMatching(/^application\/json/)]);
      const json = JSON.parse(text) as Record<string, unknown>;
      expect([context, json]).toEqual([
        context,
        expect.objectContaining({ ActionStatus: expect.stringMatching(/^(OK|FAIL)$/), ErrorCode: expect.any(Number), ErrorInfo: expect.any(String) }),
      ]);
      expect([context, [70169, 91000].includes(json.ErrorCode as number)]).toEqual([context, false]);
      expect([context, json.ActionStatus === 'OK']).toEqual([context, json.ErrorCode === 0]);
    }
  });

  it.each(QCHAT_APIS)('%s: HTTP 200 with {code, ...} and never a 5xx code', async (api) => {
    const f = new Fuzzer(4242, [...w.accounts, w.serverId, ...w.channels]);
    for (let i = 0; i < PER_API; i++) {
      const body = f.qchatBody();
      const headers = qchatHeaders();
      const ct = f.contentType(false);
      if (ct) headers['Content-Type'] = ct;
      else delete headers['Content-Type'];
      const query = i % 5 === 0 ? `?${f.query()}` : '';
      const res = await fetch(`${h.gateway!.url}/nimserver/qchat/${api}${query}`, { method: 'POST', headers, body });
      const text = await res.text();
      const context = `${api} #${i} body ${body.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
      expect([context, res.status]).toEqual([context, 200]);
      const json = JSON.parse(text) as Record<string, unknown>;
      expect([context, typeof json.code]).toEqual([context, 'number']);
      expect([context, (json.code as number) >= 500]).toEqual([context, false]);
      if (json.code !== 200) expect([context, typeof json.desc]).toEqual([context, 'string']);
    }
  });

  it('is still healthy afterwards, and nothing it accepted became a dead letter', async () => {
    const ready = await fetch(`${h.gateway!.url}/health/ready`);
    expect(ready.status).toBe(200);
    await drainedGroup(h.kafka, h.config);
    const [dl] = await admin.fetchTopicOffsets(h.topics.deadLetter);
    expect(dl?.high).toBe('0');
  });
});
