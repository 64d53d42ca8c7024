import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type RunningGateway } from '../apps/gateway/src/gateway';
import { Harness, testConfig } from './support/harness';
import { qchatHeaders } from './support/qchat-client';
import { genUserSig, tencentPost, tencentUrl } from './support/tencent';
import { makeCertificates, type TlsFiles } from './support/tls-certs';

const ADMIN_PATHS = ['/metrics', '/docs', '/openapi.json', '/asyncapi.json'];
const NOT_FOUND = { status: 404, body: { statusCode: 404, message: 'not found' } };

async function get(url: string): Promise<{ status: number; body: unknown; type: string | null }> {
  const res = await fetch(url);
  const text = await res.text();
  const type = res.headers.get('content-type');
  return { status: res.status, type, body: type?.startsWith('application/json') ? (JSON.parse(text) as unknown) : text };
}

/**
 * The gateway's two listeners (docs/operations.md, "Gateway: the admin port"): the public
 * one serves the vendor APIs, the summary API and /health/*; the admin one serves /metrics,
 * the API documents and the docs UI, and nothing of the APIs.
 */
describe('gateway: public and admin ports', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ projector: false });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it.each(ADMIN_PATHS)('answers %s on the public port 404, in the shape of an unknown path', async (path) => {
    const r = await get(`${h.gateway!.url}${path}`);
    expect({ status: r.status, body: r.body }).toEqual(NOT_FOUND);
  });

  it('serves all four on the admin port', async () => {
    const metrics = await get(`${h.gateway!.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('unread_gateway_request_seconds');
    const docs = await get(`${h.gateway!.adminUrl}/docs`);
    expect({ status: docs.status, type: docs.type?.split(';')[0] }).toEqual({ status: 200, type: 'text/html' });
    expect(docs.body).toContain('swagger-ui');
    const openapi = await get(`${h.gateway!.adminUrl}/openapi.json`);
    expect({ status: openapi.status, version: (openapi.body as { openapi?: string }).openapi }).toEqual({ status: 200, version: '3.1.0' });
    const asyncapi = await get(`${h.gateway!.adminUrl}/asyncapi.json`);
    expect({ status: asyncapi.status, version: (asyncapi.body as { asyncapi?: string }).asyncapi }).toEqual({ status: 200, version: '3.0.0' });
  });

  it('serves no API on the admin port, and /health/* on both', async () => {
    const vendor = await fetch(`${h.gateway!.adminUrl}/v4/openim/get_c2c_unread_msg_num`, { method: 'POST', body: '{}' });
    expect({ status: vendor.status, body: await vendor.json() }).toEqual(NOT_FOUND);
    const summary = await get(`${h.gateway!.adminUrl}/v1/apps/1400000001/accounts/alice/unread`);
    expect({ status: summary.status, body: summary.body }).toEqual(NOT_FOUND);
    for (const base of [h.gateway!.url, h.gateway!.adminUrl]) {
      const r = await get(`${base}/health/ready`);
      expect({ status: r.status, body: r.body }).toEqual({ status: 200, body: { status: 'ready', redis: 'up' } });
    }
    // the public port still answers its APIs
    const answer = await tencentPost(h.gateway!.url, 'openim/get_c2c_unread_msg_num', { To_Account: 'nobody' });
    expect(answer.body.ErrorCode).toBe(90003);
  });

  it('leaves the docs UI out with GATEWAY_DOCS_UI=false (the document stays)', async () => {
    const g = await startGateway(testConfig(h.config.kafka.brokers, h.redisServer.url, { GATEWAY_DOCS_UI: 'false' }), { logger: false });
    try {
      expect(await get(`${g.adminUrl}/docs`).then((r) => ({ status: r.status, body: r.body }))).toEqual(NOT_FOUND);
      expect((await get(`${g.adminUrl}/openapi.json`)).status).toBe(200);
    } finally {
      await g.close();
    }
  });

  it('puts the security headers on every answer: nosniff, no framing, a CSP that loads nothing but on /docs', async () => {
    const api = await fetch(tencentUrl(h.gateway!.url, 'openim/get_c2c_unread_msg_num'), { method: 'POST', body: '{}' });
    const unknown = await fetch(`${h.gateway!.url}/nowhere`);
    const docs = await fetch(`${h.gateway!.adminUrl}/docs`);
    const gated = await fetch(`${h.gateway!.url}/metrics`); // the listener gate's own 404
    expect(gated.status).toBe(404);
    for (const res of [api, unknown, docs, gated]) {
      expect([res.headers.get('x-content-type-options'), res.headers.get('x-frame-options'), res.headers.get('referrer-policy')]).toEqual(['nosniff', 'DENY', 'no-referrer']);
      expect(res.headers.get('strict-transport-security')).toBeNull(); // plain HTTP here
    }
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    expect(api.headers.get('cache-control')).toBe('no-store');
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(docs.headers.get('content-security-policy')).not.toContain('unsafe-eval');
  });

  it('answers /health/ready 503 naming Redis, without its error text, while Redis is down', async () => {
    await h.redisServer.kill();
    const r = await get(`${h.gateway!.url}/health/ready`);
    expect({ status: r.status, body: r.body }).toEqual({ status: 503, body: { status: 'not-ready', redis: 'down', reason: 'redis did not answer PING' } });
    expect((await get(`${h.gateway!.url}/health/live`)).status).toBe(200);
  });
});

describe('gateway: logs', () => {
  it('never carry the usersig (nor any query string): a failed call logs its method and path', async () => {
    const lines: string[] = [];
    const keep = (m: unknown, ...rest: unknown[]) => void lines.push([m, ...rest].map((x) => (x instanceof Error ? x.stack : String(x))).join(' '));
    const logger = { log: keep, error: keep, warn: keep, debug: keep, verbose: keep, fatal: keep };
    // Redis away: the call fails after the common layer and the filter logs it with an id
    const g = await startGateway(testConfig(['127.0.0.1:9'], 'redis://127.0.0.1:9', { REQUEST_TIMEOUT_MS: '100' }), { logger });
    try {
      const usersig = genUserSig('administrator');
      const r = await tencentPost(g.url, 'openim/get_c2c_unread_msg_num', { To_Account: 'alice' }, { usersig });
      expect([70169, 91000]).toContain(r.body.ErrorCode);
      const failed = lines.filter((l) => l.includes('POST /v4/openim/get_c2c_unread_msg_num failed'));
      expect(failed.length).toBeGreaterThan(0);
      for (const l of lines) {
        expect(l).not.toContain(usersig.slice(0, 24));
        expect(l).not.toMatch(/usersig=|sdkappid=/i);
      }
    } finally {
      await g.close();
    }
  });
});

/** A request over HTTPS that trusts only `ca` and checks the certificate against `servername`. */
function httpsCall(
  url: string,
  tls: { ca?: string; servername: string },
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca: tls.ca, servername: tls.servername }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('gateway: HTTPS on the public port (GATEWAY_TLS_CERT_FILE, GATEWAY_TLS_KEY_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unread-gw-tls-'));
  let files: TlsFiles;
  let h: Harness;
  let g: RunningGateway;

  beforeAll(async () => {
    files = await makeCertificates(dir, 'gateway.test');
    h = await Harness.start({ projector: false, gateway: false });
    g = await startGateway(testConfig(h.config.kafka.brokers, h.redisServer.url, { GATEWAY_TLS_CERT_FILE: files.cert, GATEWAY_TLS_KEY_FILE: files.key }), { logger: false });
  });
  afterAll(async () => {
    await g?.close();
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the vendor APIs and the health checks over HTTPS, trusted through the test CA', async () => {
    expect(g.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const tls = { ca: readFileSync(files.ca, 'utf8'), servername: files.serverName };
    const tencent = await httpsCall(tencentUrl(g.url, 'openim/get_c2c_unread_msg_num'), tls, { method: 'POST', body: '{"To_Account":"nobody"}' });
    expect({ status: tencent.status, body: JSON.parse(tencent.body) as unknown }).toEqual({
      status: 200,
      body: { ActionStatus: 'FAIL', ErrorCode: 90003, ErrorInfo: 'To_Account nobody does not exist' },
    });
    expect(tencent.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(tencent.headers['x-content-type-options']).toBe('nosniff');
    const qchat = await httpsCall(`${g.url}/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action`, tls, {
      method: 'POST',
      headers: qchatHeaders(),
      body: 'accid=nobody&serverId=1&channelId=2',
    });
    expect(JSON.parse(qchat.body)).toEqual({ code: 404, desc: 'account nobody not found' });
    const ready = await httpsCall(`${g.url}/health/ready`, tls);
    expect({ status: ready.status, body: JSON.parse(ready.body) as unknown }).toEqual({ status: 200, body: { status: 'ready', redis: 'up' } });
    // the admin port stays plain HTTP, for the scraper on the internal network
    expect((await fetch(`${g.adminUrl}/metrics`)).status).toBe(200);
  });

  it('refuses a client that does not trust the CA, and plain HTTP on the HTTPS port', async () => {
    await expect(httpsCall(`${g.url}/health/live`, { servername: files.serverName })).rejects.toThrow();
    await expect(httpsCall(`${g.url}/health/live`, { ca: readFileSync(files.ca, 'utf8'), servername: 'other.test' })).rejects.toThrow(/altnames|does not match/i);
    await expect(fetch(`${g.url.replace('https:', 'http:')}/health/live`).then((r) => r.status)).rejects.toThrow();
  });
});

