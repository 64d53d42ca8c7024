import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '../apps/gateway/src/gateway';
import { expectExact } from './support/failover';
import { Harness, testConfig, uniq } from './support/harness';
import { withRedis } from './support/private-redis';
import { freePort, RedisServer } from './support/processes';
import { waitReplicated } from './support/redis-faults';
import { failOverUnderTraffic, sentinelHarness } from './support/sentinel-topology';
import { tencentPost } from './support/tencent';
import { makeCertificates, redisTlsArgs, type TlsFiles } from './support/tls-certs';
import { Workload, type Ev } from './support/workload';

/**
 * The apps over TLS (REDIS_TLS, REDIS_TLS_CA_FILE, REDIS_TLS_SERVERNAME) with a password
 * (REDIS_PASSWORD), to one Redis and under Sentinel (TLS to the Sentinels and to the nodes,
 * replication over TLS too). The certificate names only `redis.test`, never the address
 * connected to, so every connection depends on the configured server name and CA.
 */

const RETENTION_MS = 7 * 24 * 3600 * 1000;
const C2C = 'openim/get_c2c_unread_msg_num';

jest.setTimeout(180_000);

describe('Redis over TLS with a password', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unread-tls-'));
  let files: TlsFiles;
  let server: RedisServer;
  let tlsPort: number;
  let h: Harness;
  const password = uniq();

  beforeAll(async () => {
    files = await makeCertificates(dir);
    tlsPort = await freePort();
    server = await RedisServer.start(redisTlsArgs(files, tlsPort));
    await withRedis(server.url, (admin) => admin.config('SET', 'requirepass', password));
    h = await Harness.start({
      env: {
        REDIS_URL: `redis://127.0.0.1:${tlsPort}`,
        REDIS_TLS: 'true',
        REDIS_TLS_CA_FILE: files.ca,
        REDIS_TLS_SERVERNAME: files.serverName,
        REDIS_PASSWORD: password,
      },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('projects and answers through TLS, authenticated', async () => {
    const w = new Workload(81, 6);
    const sent: Ev[] = [...w.setup(), ...w.traffic(200)];
    await h.send(...sent);
    await withRedis({ port: server.port, password }, async (live) => {
      await expectExact(h, w, sent, live, RETENTION_MS);
      const clients = (await live.call('CLIENT', 'LIST')) as string;
      expect(clients.split('\n').filter((l) => / name=unread-(projector|gateway) /.test(l)).length).toBeGreaterThanOrEqual(2);
    });
  });

  it('refuses a certificate it cannot check: without the CA file (or the server name, or the password) the gateway is not ready and answers 91000', async () => {
    const base = { REDIS_URL: `redis://127.0.0.1:${tlsPort}`, REQUEST_TIMEOUT_MS: '500' };
    const variants: Record<string, string>[] = [
      { REDIS_TLS: 'true', REDIS_TLS_SERVERNAME: files.serverName, REDIS_PASSWORD: password },
      { REDIS_TLS: 'true', REDIS_TLS_CA_FILE: files.ca, REDIS_PASSWORD: password },
      { REDIS_TLS: 'true', REDIS_TLS_CA_FILE: files.ca, REDIS_TLS_SERVERNAME: files.serverName },
    ];
    for (const env of variants) {
      const gateway = await startGateway(testConfig(h.config.kafka.brokers, '', { ...base, ...env }), { logger: false });
      try {
        expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(503);
        const r = await tencentPost(gateway.url, C2C, { To_Account: 'anyone' });
        expect(r.body).toMatchObject({ ActionStatus: 'FAIL', ErrorCode: 91000 });
      } finally {
        await gateway.close();
      }
    }
  });
});

describe('Redis under Sentinel over TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unread-tls-'));
  const rig = sentinelHarness({}, { topology: async () => ({ tls: await makeCertificates(dir) }), cleanup: () => rmSync(dir, { recursive: true, force: true }) });

  it('asks the Sentinels over TLS, writes to the primary over TLS, and follows a failover', async () => {
    const { topo, h } = rig;
    const w = new Workload(82, 6);
    const sent: Ev[] = [...w.setup(), ...w.traffic(200)];
    await h.send(...sent);
    await withRedis(topo.primary.url, (primary) => expectExact(h, w, sent, primary, RETENTION_MS));
    await waitReplicated(topo.primary);
    await failOverUnderTraffic(topo, h, sent, w.traffic(200));
    await withRedis(topo.replica.url, (promoted) => expectExact(h, w, sent, promoted, RETENTION_MS));
  });
});
