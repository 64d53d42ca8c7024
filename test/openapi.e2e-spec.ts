import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { Application } from 'express';
import { Harness, NETEASE_APP, TENCENT_APP } from './support/harness';
import { drained } from './support/drain';
import { ROOT } from './support/processes';
import { qchatHeaders } from './support/qchat-client';
import { tencentUrl } from './support/tencent';

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, { content?: Record<string, { schema: unknown; examples?: Record<string, { value: unknown }> }> }>; 'x-error-codes'?: { code: number }[] }>>;
  tags?: { name: string; description?: string }[];
  components: { schemas: Record<string, unknown> };
}

const KEY = 'openapi-test-api-key-0000000001';
const APP = NETEASE_APP.appKey;

/**
 * The OpenAPI document (docs/api/, "/openapi.json"): valid OpenAPI 3.1 by a maintained
 * validator (@seriousme/openapi-schema-validator, run as its CLI: the package is ESM only),
 * every mapped route present, and real answers of every route conform to their schemas.
 */
describe('OpenAPI document', () => {
  let h: Harness;
  let doc: OpenApiDoc;
  let ajv: Ajv2020;

  beforeAll(async () => {
    h = await Harness.start({
      env: { TENANTS_JSON: JSON.stringify({ tencent: [TENCENT_APP], netease: [{ ...NETEASE_APP, apiKey: KEY }] }) },
    });
    const res = await fetch(`${h.gateway!.adminUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    doc = (await res.json()) as OpenApiDoc;
    ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addFormat('int64', true);
    ajv.addSchema({ $id: 'openapi', components: doc.components });
  });
  afterAll(async () => {
    await h.stop();
  });

  /** The schema of an operation's answer with `status`, with the document's component refs resolved. */
  function schemaOf(path: string, method: string, status: number): ValidateFunction {
    const content = doc.paths[path]?.[method]?.responses[String(status)]?.content;
    const schema = content?.['application/json']?.schema;
    if (!schema) throw new Error(`no ${status} JSON schema for ${method} ${path}`);
    const rebased = JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi#/components/')) as object;
    return ajv.compile(rebased);
  }

  function conforms(path: string, method: string, status: number, body: unknown): void {
    const validate = schemaOf(path, method, status);
    if (!validate(body)) throw new Error(`${method} ${path} ${status}: ${JSON.stringify(body)} does not conform: ${ajv.errorsText(validate.errors)}`);
  }

  it('is a valid OpenAPI 3.1 document', () => {
    expect(doc.openapi).toBe('3.1.0');
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(doc));
      const cli = join(ROOT, 'node_modules', '@seriousme', 'openapi-schema-validator', 'bin', 'validate-api-cli.js');
      const run = spawnSync(process.execPath, [cli, file], { encoding: 'utf8' });
      expect({ status: run.status, out: run.stdout.includes('"valid": true') ? 'valid' : run.stdout }).toEqual({ status: 0, out: 'valid' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describes every mapped route, and its examples conform to its schemas', () => {
    const express = h.gateway!.app.getHttpAdapter().getInstance() as Application;
    const stack = (express as unknown as { router: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }).router.stack;
    const routes = stack
      .filter((l) => l.route && !l.route.path.startsWith('/docs') && l.route.path !== '/openapi.json')
      .flatMap((l) => Object.keys(l.route!.methods).map((m) => `${m} ${l.route!.path.replace(/:(\w+)/g, '{$1}')}`));
    expect(routes.length).toBeGreaterThanOrEqual(9);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.sort()).toEqual(routes.sort());
    // every vendor operation lists its error codes, and each example fits the schema
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        if (p.startsWith('/v4/') || p.startsWith('/nimserver/')) expect(op['x-error-codes']?.length).toBeGreaterThan(3);
        for (const [status, r] of Object.entries(op.responses)) {
          for (const example of Object.values(r.content?.['application/json']?.examples ?? {})) conforms(p, m, Number(status), example.value);
        }
      }
    }
  });

  it('serves the browsable UI at /docs', async () => {
    const res = await fetch(`${h.gateway!.adminUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('swagger-ui');
  });

  it('real answers of every route conform to their schemas', async () => {
    const T = TENCENT_APP.sdkAppId;
    await h.send(
      ...['alice', 'bob'].map((account) => ({ type: 'account-registered', appId: T, account })),
      ...['alice', 'bob'].map((account) => ({ type: 'account-registered', appId: APP, account })),
      { type: 'message-sent', scope: 'c2c', appId: T, msgId: 'm1', from: 'bob', to: 'alice', time: Date.now() - 1000 },
      { type: 'message-sent', scope: 'c2c', appId: APP, msgId: 'm1', from: 'bob', to: 'alice', time: Date.now() - 1000 },
      { type: 'group-created', appId: T, groupId: 'g1', groupType: 'Public', name: 'team' },
      { type: 'group-member-joined', appId: T, groupId: 'g1', account: 'alice', seq: 0 },
      { type: 'message-sent', scope: 'group', appId: T, msgId: 'g1-1', groupId: 'g1', from: 'bob', seq: 1, time: Date.now() - 1000 },
      { type: 'qchat-server-member-joined', appId: APP, serverId: '9', account: 'alice' },
      { type: 'qchat-channel-created', appId: APP, serverId: '9', channelId: '90' },
      {
        type: 'channel-mention',
        appId: APP,
        serverId: '9',
        channelId: '90',
        message: { msgIdServer: '18446744073709551615', fromAccount: 'bob', time: Date.now() - 1000, body: 'hi @all' },
        mentionAll: true,
      },
    );
    await drained(h);
    const base = h.gateway!.url;
    const tencent = async (api: string, body: unknown) => {
      const res = await fetch(tencentUrl(base, api), { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const calls: [string, string, Promise<{ status: number; body: Record<string, unknown> }>, string][] = [
      ['/v4/openim/get_c2c_unread_msg_num', 'post', tencent('openim/get_c2c_unread_msg_num', { To_Account: 'alice' }), 'OK'],
      ['/v4/openim/get_c2c_unread_msg_num', 'post', tencent('openim/get_c2c_unread_msg_num', { To_Account: 'alice', Peer_Account: ['bob', 'nobody'] }), 'OK'],
      ['/v4/openim/get_c2c_unread_msg_num', 'post', tencent('openim/get_c2c_unread_msg_num', 'not json'), 'FAIL'],
      ['/v4/openim/admin_set_msg_read', 'post', tencent('openim/admin_set_msg_read', { Report_Account: 'alice', Peer_Account: 'bob' }), 'OK'],
      ['/v4/openim/admin_set_msg_read', 'post', tencent('openim/admin_set_msg_read', { Report_Account: 'nobody', Peer_Account: 'bob' }), 'FAIL'],
      ['/v4/group_open_http_svc/set_unread_msg_num', 'post', tencent('group_open_http_svc/set_unread_msg_num', { GroupId: 'g1', Member_Account: 'alice', UnreadMsgNum: 1 }), 'OK'],
      ['/v4/group_open_http_svc/set_unread_msg_num', 'post', tencent('group_open_http_svc/set_unread_msg_num', { GroupId: 'nope', Member_Account: 'alice', UnreadMsgNum: 1 }), 'FAIL'],
      [
        '/v4/group_open_http_svc/get_joined_group_list',
        'post',
        tencent('group_open_http_svc/get_joined_group_list', { Member_Account: 'alice', ResponseFilter: { GroupBaseInfoFilter: ['Type', 'Name'], SelfInfoFilter: ['UnreadMsgNum'] } }),
        'OK',
      ],
      ['/v4/group_open_http_svc/get_joined_group_list', 'post', tencent('group_open_http_svc/get_joined_group_list', { Member_Account: 'nobody' }), 'FAIL'],
    ];
    for (const [path, method, answer, outcome] of calls) {
      const { status, body } = await answer;
      expect({ path, status, outcome: body.ActionStatus }).toEqual({ path, status: 200, outcome });
      conforms(path, method, status, body);
    }

    const qchatPath = '/nimserver/qchat/queryChannelUnReadMentionedMsgPage.action';
    for (const form of ['accid=alice&serverId=9&channelId=90', 'accid=alice&serverId=9&channelId=91', 'limit=1']) {
      const res = await fetch(`${base}${qchatPath}`, { method: 'POST', headers: qchatHeaders(), body: form });
      const text = await res.text();
      expect(res.status).toBe(200);
      conforms(qchatPath, 'post', 200, JSON.parse(text));
    }

    const summary = `/v1/apps/${APP}/accounts/alice/unread`;
    const get = async (path: string, token?: string) => {
      const res = await fetch(`${base}${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
      return { status: res.status, body: (await res.json()) };
    };
    const summaryPath = '/v1/apps/{appId}/accounts/{account}/unread';
    for (const [path, token, status] of [
      [summary, KEY, 200],
      [`${summary}?limit=0`, KEY, 400],
      [summary, undefined, 401],
      [`/v1/apps/${APP}/accounts/nobody/unread`, KEY, 404],
    ] as const) {
      const r = await get(path, token);
      expect({ path, status: r.status }).toEqual({ path, status });
      conforms(summaryPath, 'get', status, r.body);
    }
    for (const [path, status] of [
      ['/health/live', 200],
      ['/health/ready', 200],
    ] as const) {
      const r = await get(path);
      expect(r.status).toBe(status);
      conforms(path, 'get', status, r.body);
    }
    const metrics = await fetch(`${h.gateway!.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(doc.paths['/metrics']?.get?.responses['200']?.content?.['text/plain']).toBeDefined();
    // the admin port's operations say where they are served; every other one is on the public port
    const adminOnly = Object.entries(doc.paths).filter(([, ops]) => Object.values(ops).some((op) => op.tags?.includes('Admin port'))).map(([path]) => path);
    expect(adminOnly.sort()).toEqual(['/asyncapi.json', '/metrics']);
    expect(doc.tags).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Admin port', description: expect.stringContaining('GATEWAY_ADMIN_PORT') })]));
  });
});
