import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startGateway } from '../apps/gateway/src/gateway';
import { Harness, NETEASE_APP, TENCENT_APP, testConfig } from './support/harness';
import { ROOT } from './support/processes';
import { qchatHeaders, qchatPost } from './support/qchat-client';
import { tencentPost, tencentUrl } from './support/tencent';

const MAIN = join(ROOT, 'dist', 'apps', 'gateway', 'src', 'main.js');
const KEY = 'holes-summary-key-0000000000000001';

/** Runs the gateway process to its end (it must refuse to start): exit code and stderr. */
function refusedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, KAFKA_BROKERS: '127.0.0.1:9', REDIS_URL: 'redis://127.0.0.1:9', HTTP_PORT: '0', GATEWAY_ADMIN_PORT: '0', HTTP_HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the gateway did not refuse to start; stderr: ${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('gateway: start-up refusals', () => {
  it('refuses to start without any app (it would answer every call as unknown, and report ready)', async () => {
    expect(await refusedStart({})).toEqual({
      code: 1,
      stderr: expect.stringContaining('TENANTS_JSON or TENANTS_FILE: the gateway needs at least one app (tencent or netease)') as string,
    });
    const config = testConfig(['127.0.0.1:9'], 'redis://127.0.0.1:9', { TENANTS_JSON: '{"tencent":[],"netease":[]}' });
    await expect(startGateway(config, { logger: false })).rejects.toThrow('the gateway needs at least one app');
  });

  it('says where a malformed TENANTS_JSON breaks without echoing any of it', async () => {
    const secret = 'Zq8vLmW3xKp2RtYh9NbC4dFg7JsAe6Uo';
    const { code, stderr } = await refusedStart({ TENANTS_JSON: `{"tencent":[{"sdkAppId":"1400000001","secretKey":"${secret}" "admins":["a"]}]}` });
    expect(code).toBe(1);
    expect(stderr).toContain('TENANTS_JSON: not valid JSON of {tencent:[...], netease:[...]} (at character');
    for (let i = 0; i + 4 <= secret.length; i++) expect(stderr).not.toContain(secret.slice(i, i + 4));
  });

  it('refuses a one-character or all-spaces secret, and a NetEase AppKey equal to a Tencent SDKAppID', async () => {
    const { code, stderr } = await refusedStart({
      TENANTS_JSON: JSON.stringify({
        tencent: [{ sdkAppId: '1400000001', secretKey: 'k', admins: ['a'] }],
        netease: [{ appKey: '1400000001', appSecret: '            ' }],
      }),
    });
    expect(code).toBe(1);
    expect(stderr).toContain('tenants.tencent.0.secretKey: secretKey must be at least 8 characters');
    expect(stderr).toContain('tenants.netease.0.appSecret: appSecret must not contain whitespace');
    expect(stderr).toContain('tenants.netease.0.appKey: equals tenants.tencent.0.sdkAppId; a tenant id must name one app of one vendor');
  });
});

describe('gateway: inputs that used to slip through', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({
      projector: false,
      env: { TENANTS_JSON: JSON.stringify({ tencent: [{ ...TENCENT_APP, apiKey: KEY }], netease: [NETEASE_APP] }) },
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  // `+AHsAfQ-` is `{}` in UTF-7: decoded, it would be a valid (empty) JSON object.
  it('refuses a body in any charset but UTF-8, in each family\'s documented answer', async () => {
    const utf7 = { 'content-type': 'application/json; charset=utf-7' };
    const tencent = await fetch(tencentUrl(h.gateway!.url, 'openim/get_c2c_unread_msg_num'), { method: 'POST', headers: utf7, body: '+AHsAfQ-' });
    expect({ status: tencent.status, body: await tencent.json() }).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 60002, ErrorInfo: 'bad request: unsupported charset: only utf-8 is accepted' },
    });
    const qchat = await qchatPost(h.gateway!.url, 'queryChannelUnReadMentionedMsgPage.action', 'accid=a&serverId=1&channelId=2', {
      ...qchatHeaders(),
      'Content-Type': 'application/x-www-form-urlencoded;charset=ISO-8859-1',
    });
    expect(qchat).toEqual({ status: 200, body: { code: 414, desc: 'bad request' } });
    const summary = await fetch(`${h.gateway!.url}/v1/apps/${TENCENT_APP.sdkAppId}/unread`, {
      method: 'POST',
      headers: { ...utf7, authorization: `Bearer ${KEY}` },
      body: '+AHsAIg-accounts+ACI-:+AFs-+ACI-a+ACI-+AF0-+AH0-',
    });
    expect({ status: summary.status, body: await summary.json() }).toEqual({
      status: 415,
      body: { statusCode: 415, message: 'unsupported charset: only utf-8 is accepted' },
    });
    // UTF-8, said or not, is read as before
    for (const type of ['application/json; charset=UTF-8', 'application/json; charset="utf8"', 'application/json']) {
      const ok = await fetch(tencentUrl(h.gateway!.url, 'openim/get_c2c_unread_msg_num'), { method: 'POST', headers: { 'content-type': type }, body: '{"To_Account":"nobody"}' });
      expect(((await ok.json()) as { ErrorCode: number }).ErrorCode).toBe(90003);
    }
  });

  it('refuses a MsgReadTime ahead of the clock with 90001 (nothing is appended)', async () => {
    const ahead = Math.floor(Date.now() / 1000) + 3600;
    expect(await tencentPost(h.gateway!.url, 'openim/admin_set_msg_read', { Report_Account: 'alice', Peer_Account: 'bob', MsgReadTime: ahead })).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 90001, ErrorInfo: 'MsgReadTime is in the future (more than 5 s ahead of the server\'s clock)' },
    });
    // the present is still fine (alice is not registered: the next check answers)
    expect(
      (await tencentPost(h.gateway!.url, 'openim/admin_set_msg_read', { Report_Account: 'alice', Peer_Account: 'bob', MsgReadTime: Math.floor(Date.now() / 1000) })).body,
    ).toEqual({ ActionStatus: 'FAIL', ErrorCode: 90003, ErrorInfo: 'Report_Account alice does not exist' });
  });

  it('holds a QChat accid to the account-id rule (no control characters): 414', async () => {
    expect(await qchatPost(h.gateway!.url, 'queryChannelUnReadMentionedMsgPage.action', 'accid=ali%1Bce&serverId=1&channelId=2')).toEqual({
      status: 200,
      body: { code: 414, desc: 'accid must not contain control characters' },
    });
  });
});
