import { startGateway } from '../apps/gateway/src/gateway';
import { Harness, testConfig } from './support/harness';
import { tencentPost } from './support/tencent';

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

  it('answers /health/ready 503 naming Redis, without its error text, while Redis is down', async () => {
    await h.redisServer.kill();
    const r = await get(`${h.gateway!.url}/health/ready`);
    expect({ status: r.status, body: r.body }).toEqual({ status: 503, body: { status: 'not-ready', redis: 'down', reason: 'redis did not answer PING' } });
    expect((await get(`${h.gateway!.url}/health/live`)).status).toBe(200);
  });
});
