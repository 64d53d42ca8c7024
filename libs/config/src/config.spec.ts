import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ENV_KEYS, envDeclaration, isPlaceholderSecret, loadConfig, type EnvKey } from './config';

const base = { KAFKA_BROKERS: 'k1:9092,k2:9092', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unread-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('applies defaults', () => {
    const c = loadConfig(base);
    expect(c.kafka).toEqual({
      brokers: ['k1:9092', 'k2:9092'],
      clientId: 'unread',
      consumerGroup: 'unread-projector',
      topics: {
        messageSent: 'im.message-sent',
        readAck: 'im.read-ack',
        mention: 'im.mention',
        directory: 'im.directory',
        deadLetter: 'im.dead-letter',
        unreadChanged: 'im.unread-changed',
      },
    });
    expect(c.rateLimits).toEqual({ tencentPerSecond: 200, qchatPerSecond: 100, qchatBlockMs: 10_000, summaryAccountsPerSecond: 1000, summaryChannelsPerSecond: 100_000, summaryChannelBudget: 10_000, authFailuresPerSecond: 20 });
    expect(c.mentionRetentionMs).toBe(7 * 24 * 3600 * 1000);
    expect(c.c2cUnreadCap).toBe(1000);
    expect(c.groupUncountedHorizon).toBe(1_000);
    expect(c.tenants).toEqual({ tencent: [], netease: [] });
    expect(c.changeFeed).toEqual({ enabled: false });
  });

  it('reads tenants and cluster nodes', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'k:9092',
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001',
      TENANTS_JSON: JSON.stringify({
        tencent: [{ sdkAppId: 1400000001, secretKey: 'k0123456789', admins: ['admin'] }],
        netease: [{ appKey: 'ak', appSecret: 's0123456789' }],
      }),
    });
    expect(c.redis.clusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(c.tenants.tencent[0]).toMatchObject({ sdkAppId: '1400000001', secretKey: 'k0123456789', admins: ['admin'] });
    expect(c.tenants.netease[0]).toMatchObject({ appKey: 'ak', appSecret: 's0123456789' });
  });

  it('takes a one-to-one cap of 100 or more, and refuses a lower one ("99+" must stay true)', () => {
    expect(loadConfig({ ...base, C2C_UNREAD_CAP: '100' }).c2cUnreadCap).toBe(100);
    expect(() => loadConfig({ ...base, C2C_UNREAD_CAP: '99' })).toThrow('C2C_UNREAD_CAP: C2C_UNREAD_CAP must be at least 100 (a client showing "99+" must be able to trust it)');
  });

  it('lists every problem at once', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({
        KAFKA_BROKERS: 'a b',
        TENCENT_RATE_LIMIT: 'fast',
        HTTP_PORT: '70000',
        LOG_LEVEL: 'loud',
        TENANTS_JSON: JSON.stringify({ tencent: [{ sdkAppId: 'x', secretKey: '', admins: [] }] }),
      });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      'TENCENT_RATE_LIMIT: must be an integer, got "fast"',
      'KAFKA_BROKERS: KAFKA_BROKERS must be a comma-separated list of host:port',
      'HTTP_PORT: HTTP_PORT must not be greater than 65535',
      'LOG_LEVEL: LOG_LEVEL must be one of the following values: fatal, error, warn, info, debug, trace, silent',
      'REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS: one of them must be set',
      'tenants.tencent.0.sdkAppId: sdkAppId must be a positive integer (as a string or number)',
      'tenants.tencent.0.secretKey: secretKey must be at least 8 characters',
      'tenants.tencent.0.admins: admins must contain at least 1 elements',
    ]);
  });

  it('refuses secrets of one character, of spaces, or with whitespace', () => {
    const problems = (tencent: object, netease: object) => {
      try {
        loadConfig({ ...base, TENANTS_JSON: JSON.stringify({ tencent: [{ sdkAppId: '1400000001', admins: ['a'], ...tencent }], netease: [{ appKey: 'ak', ...netease }] }) });
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ secretKey: 'k' }, { appSecret: ' '.repeat(12) })).toEqual([
      'tenants.tencent.0.secretKey: secretKey must be at least 8 characters',
      'tenants.netease.0.appSecret: appSecret must not contain whitespace',
    ]);
    expect(problems({ secretKey: '0123456789abcdef ' }, { appSecret: '\t\t\t\t\t\t\t\t', apiKey: ' '.repeat(20) })).toEqual([
      'tenants.tencent.0.secretKey: secretKey must not contain whitespace',
      'tenants.netease.0.appSecret: appSecret must not contain whitespace',
      'tenants.netease.0.apiKey: apiKey must not contain whitespace',
    ]);
    expect(problems({ secretKey: 'a1b2c3d4' }, { appSecret: 'c4ab1eb5bde9' })).toEqual([]);
  });

  it('never quotes malformed tenants JSON (it holds secrets) in its refusal', () => {
    const secret = 'S3cr3tKeyThatMustNotLeak0123456789';
    for (const text of [
      `{"tencent":[{"sdkAppId":"1400000001","secretKey":"${secret}" "admins":["a"]}]}`,
      `${secret}`,
      `{"tencent":[{"secretKey":"${secret}`,
      `{"tencent":[{"secretKey":${secret}}]}`,
    ]) {
      let message = '';
      try {
        loadConfig({ ...base, TENANTS_JSON: text });
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/TENANTS_JSON: not valid JSON of \{tencent:\[\.\.\.\], netease:\[\.\.\.\]\}/);
      for (let i = 0; i + 4 <= secret.length; i++) expect(message).not.toContain(secret.slice(i, i + 4));
    }
  });

  it('refuses a NetEase AppKey equal to a Tencent SDKAppID (they would share every key)', () => {
    expect(() =>
      loadConfig({
        ...base,
        TENANTS_JSON: JSON.stringify({
          tencent: [{ sdkAppId: 1400000001, secretKey: 'k0123456789', admins: ['a'] }],
          netease: [{ appKey: 'x'.repeat(32), appSecret: 's0123456789' }, { appKey: '1400000001', appSecret: 's0123456789' }],
        }),
      }),
    ).toThrow('tenants.netease.1.appKey: equals tenants.tencent.0.sdkAppId; a tenant id must name one app of one vendor');
  });

  it('refuses a gateway configuration without any app (requireTenants), not the projector\'s', () => {
    expect(() => loadConfig(base, { requireTenants: true })).toThrow(
      'TENANTS_JSON or TENANTS_FILE: the gateway needs at least one app (tencent or netease)',
    );
    expect(() => loadConfig({ ...base, TENANTS_JSON: '{"tencent":[],"netease":[]}' }, { requireTenants: true })).toThrow(/needs at least one app/);
    expect(loadConfig({ ...base, TENANTS_JSON: JSON.stringify({ netease: [{ appKey: 'ak', appSecret: 's0123456789' }] }) }, { requireTenants: true }).tenants.netease).toHaveLength(1);
    expect(loadConfig(base).tenants).toEqual({ tencent: [], netease: [] });
  });

  it('refuses both REDIS_URL and REDIS_CLUSTER_NODES, and bad tenants JSON', () => {
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h:1', TENANTS_JSON: '{' })).toThrow(
      /REDIS_URL and REDIS_CLUSTER_NODES: set only one of them[\s\S]*TENANTS_JSON: not valid JSON/,
    );
  });

  /** The problems loadConfig lists for `env` (none: []). */
  function problemsOf(env: Record<string, string>): string[] {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
  }

  const sentinelBase = { KAFKA_BROKERS: 'k:9092', REDIS_SENTINELS: 's1:26379,s2:26380,s3:26381', REDIS_SENTINEL_MASTER: 'unread' };

  describe('Redis under Sentinel', () => {
    it('reads the Sentinels, the master name, both passwords and the database', () => {
      const c = loadConfig({
        ...sentinelBase,
        REDIS_SENTINEL_USERNAME: 'sentinel-user',
        REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
        REDIS_USERNAME: 'unread',
        REDIS_PASSWORD: 'redis-secret',
        REDIS_DB: '3',
      });
      expect(c.redis).toEqual({
        url: undefined,
        clusterNodes: undefined,
        sentinel: {
          sentinels: [
            { host: 's1', port: 26379 },
            { host: 's2', port: 26380 },
            { host: 's3', port: 26381 },
          ],
          masterName: 'unread',
          username: 'sentinel-user',
          password: 'sentinel-secret',
          tls: undefined,
        },
        username: 'unread',
        password: 'redis-secret',
        db: 3,
        tls: undefined,
        keyPrefix: 'u',
      });
    });

    it('turns TLS on for the nodes and, unless told otherwise, for the Sentinels, with the CA file and server name', () => {
      const ca = join(dir, 'ca.pem');
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      writeFileSync(ca, pem);
      const both = loadConfig({ ...sentinelBase, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: ca, REDIS_TLS_SERVERNAME: 'redis.internal' });
      expect(both.redis.tls).toEqual({ ca: pem, servername: 'redis.internal' });
      expect(both.redis.sentinel!.tls).toEqual({ ca: pem, servername: 'redis.internal' });
      const nodesOnly = loadConfig({ ...sentinelBase, REDIS_TLS: 'true', REDIS_SENTINEL_TLS: 'false' });
      expect(nodesOnly.redis.tls).toEqual({});
      expect(nodesOnly.redis.sentinel!.tls).toBeUndefined();
      const sentinelsOnly = loadConfig({ ...sentinelBase, REDIS_SENTINEL_TLS: 'true' });
      expect(sentinelsOnly.redis.tls).toBeUndefined();
      expect(sentinelsOnly.redis.sentinel!.tls).toEqual({});
    });

    it('refuses, in one message, every variable of a combination that cannot work', () => {
      expect(
        problemsOf({
          KAFKA_BROKERS: 'k:9092',
          REDIS_SENTINELS: 's1:26379',
          REDIS_CLUSTER_NODES: 'n1:7000',
          REDIS_TLS: 'yes',
          REDIS_SENTINEL_TLS: 'on',
          REDIS_TLS_SERVERNAME: 'redis.internal',
        }),
      ).toEqual([
        'REDIS_SENTINEL_TLS: REDIS_SENTINEL_TLS must be true or false',
        'REDIS_TLS: REDIS_TLS must be true or false',
        'REDIS_CLUSTER_NODES and REDIS_SENTINELS: set only one of them',
        'REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS (the name in `sentinel monitor <name> …`)',
        'REDIS_TLS_SERVERNAME: only meaningful with TLS (REDIS_TLS=true, rediss:// or REDIS_SENTINEL_TLS=true)',
      ]);
    });

    it('refuses Sentinel-only variables without REDIS_SENTINELS, and malformed Sentinel lists and names', () => {
      expect(
        problemsOf({
          ...base,
          REDIS_SENTINEL_MASTER: 'unread',
          REDIS_SENTINEL_USERNAME: 'u',
          REDIS_SENTINEL_PASSWORD: 'p',
          REDIS_SENTINEL_TLS: 'true',
          REDIS_DB: '1',
        }),
      ).toEqual([
        'REDIS_SENTINEL_MASTER: only meaningful with REDIS_SENTINELS',
        'REDIS_SENTINEL_USERNAME: only meaningful with REDIS_SENTINELS',
        'REDIS_SENTINEL_PASSWORD: only meaningful with REDIS_SENTINELS',
        'REDIS_SENTINEL_TLS: only meaningful with REDIS_SENTINELS',
        'REDIS_DB: only with REDIS_SENTINELS (REDIS_URL carries the database: redis://host:port/N)',
      ]);
      expect(problemsOf({ KAFKA_BROKERS: 'k:9092', REDIS_SENTINELS: 's1', REDIS_SENTINEL_MASTER: 'my master' })).toEqual([
        'REDIS_SENTINELS: REDIS_SENTINELS must be host:port,host:port,...',
        'REDIS_SENTINEL_MASTER: REDIS_SENTINEL_MASTER must be 1-128 characters without spaces',
      ]);
      expect(problemsOf({ KAFKA_BROKERS: 'k:9092', REDIS_CLUSTER_NODES: 'n1:7000', REDIS_DB: '2' })).toEqual([
        'REDIS_DB: Redis Cluster has only database 0',
      ]);
      expect(problemsOf({ ...sentinelBase, REDIS_DB: 'two' })).toEqual(['REDIS_DB: must be an integer, got "two"']);
    });
  });

  describe('Redis passwords and TLS', () => {
    it('gives REDIS_USERNAME and REDIS_PASSWORD to a URL without credentials and to a cluster', () => {
      expect(loadConfig({ ...base, REDIS_USERNAME: 'unread', REDIS_PASSWORD: 'secret' }).redis).toMatchObject({
        url: 'redis://127.0.0.1:6379',
        username: 'unread',
        password: 'secret',
      });
      expect(loadConfig({ KAFKA_BROKERS: 'k:9092', REDIS_CLUSTER_NODES: 'n1:7000', REDIS_PASSWORD: 'secret' }).redis).toMatchObject({
        clusterNodes: [{ host: 'n1', port: 7000 }],
        password: 'secret',
      });
    });

    it('refuses a password or user name given twice, and TLS settings that contradict the URL or need TLS', () => {
      expect(
        problemsOf({
          KAFKA_BROKERS: 'k:9092',
          REDIS_URL: 'rediss://admin:pw@redis.internal:6380/2',
          REDIS_USERNAME: 'unread',
          REDIS_PASSWORD: 'secret',
          REDIS_TLS: 'false',
        }),
      ).toEqual([
        'REDIS_PASSWORD: REDIS_URL carries a password already; set it in one place',
        'REDIS_USERNAME: REDIS_URL carries a user name already; set it in one place',
        'REDIS_TLS: false contradicts the rediss:// of REDIS_URL',
      ]);
      expect(problemsOf({ ...base, REDIS_TLS_CA_FILE: '/nonexistent/ca.pem' })).toEqual([
        'REDIS_TLS_CA_FILE: only meaningful with TLS (REDIS_TLS=true, rediss:// or REDIS_SENTINEL_TLS=true)',
        "REDIS_TLS_CA_FILE: cannot read /nonexistent/ca.pem: ENOENT: no such file or directory, open '/nonexistent/ca.pem'",
      ]);
      const notPem = join(dir, 'ca.txt');
      writeFileSync(notPem, 'not a certificate');
      expect(problemsOf({ ...base, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: notPem })).toEqual([`REDIS_TLS_CA_FILE: ${notPem} holds no PEM certificate`]);
    });

    it('turns TLS on for rediss:// and for REDIS_TLS=true', () => {
      expect(loadConfig({ ...base, REDIS_URL: 'rediss://redis.internal:6380' }).redis.tls).toEqual({});
      expect(loadConfig({ ...base, REDIS_TLS: 'true' }).redis.tls).toEqual({});
      expect(loadConfig(base).redis.tls).toBeUndefined();
    });
  });

  describe('placeholder secrets', () => {
    const composeTenants = JSON.stringify({
      tencent: [{ sdkAppId: '1400000000', secretKey: 'change-me', admins: ['administrator'], apiKey: 'CHANGE_ME_0123456789' }],
      netease: [{ appKey: 'change-me-appkey', appSecret: 'change-me' }],
    });

    it('refuses each one, naming where it was set, in the one message', () => {
      expect(
        problemsOf({
          KAFKA_BROKERS: 'k:9092',
          REDIS_URL: 'redis://:change-me@redis:6379',
          TENANTS_JSON: composeTenants,
          HTTP_PORT: 'x',
        }),
      ).toEqual([
        'HTTP_PORT: must be an integer, got "x"',
        'REDIS_URL (password): a placeholder, not a secret: set a real one (ALLOW_PLACEHOLDER_SECRETS=true accepts it, on a development machine only)',
        'tenants.tencent.0.secretKey (TENANTS_JSON): a placeholder, not a secret: set a real one (ALLOW_PLACEHOLDER_SECRETS=true accepts it, on a development machine only)',
        'tenants.tencent.0.apiKey (TENANTS_JSON): a placeholder, not a secret: set a real one (ALLOW_PLACEHOLDER_SECRETS=true accepts it, on a development machine only)',
        'tenants.netease.0.appSecret (TENANTS_JSON): a placeholder, not a secret: set a real one (ALLOW_PLACEHOLDER_SECRETS=true accepts it, on a development machine only)',
      ]);
      expect(problemsOf({ ...sentinelBase, REDIS_PASSWORD: 'Change-Me', REDIS_SENTINEL_PASSWORD: 'xxxx' }).map((p) => p.split(':')[0])).toEqual([
        'REDIS_PASSWORD',
        'REDIS_SENTINEL_PASSWORD',
      ]);
      const file = join(dir, 'tenants.json');
      writeFileSync(file, composeTenants);
      expect(problemsOf({ ...base, TENANTS_FILE: file }).map((p) => p.split(':')[0])).toEqual([
        'tenants.tencent.0.secretKey (TENANTS_FILE)',
        'tenants.tencent.0.apiKey (TENANTS_FILE)',
        'tenants.netease.0.appSecret (TENANTS_FILE)',
      ]);
    });

    it('accepts them with ALLOW_PLACEHOLDER_SECRETS=true, and only true or false there', () => {
      const c = loadConfig({ ...base, TENANTS_JSON: composeTenants, REDIS_PASSWORD: 'change-me', ALLOW_PLACEHOLDER_SECRETS: 'true' });
      expect(c.tenants.tencent[0]!.secretKey).toBe('change-me');
      expect(c.redis.password).toBe('change-me');
      expect(problemsOf({ ...base, ALLOW_PLACEHOLDER_SECRETS: 'yes' })).toEqual(['ALLOW_PLACEHOLDER_SECRETS: ALLOW_PLACEHOLDER_SECRETS must be true or false']);
    });

    it('knows the stand-ins and nothing more', () => {
      for (const s of ['change-me', 'CHANGE_ME', 'changeme123', 'replace-me', 'changeit', 'placeholder', 'your-secret', 'xxx', 'XXXXXXXX']) {
        expect([s, isPlaceholderSecret(s)]).toEqual([s, true]);
      }
      for (const s of ['k', 's', 'secret', 'redis-secret', 'xx', 'exchange-me', '9f86d081884c7d659a2feaa0c55ad015']) {
        expect([s, isPlaceholderSecret(s)]).toEqual([s, false]);
      }
    });
  });
});

/** docs/configuration.md's table, by variable: the default column (`(required)`, a value in backquotes, or prose). */
function documented(): Map<string, string> {
  const md = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'configuration.md'), 'utf8');
  const out = new Map<string, string>();
  for (const line of md.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (!line.startsWith('| `') || cells.length < 4) continue;
    const names = [...cells[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
    const defaults = cells[2]!.split(' / ');
    names.forEach((name, i) => out.set(name, (names.length === defaults.length ? defaults[i] : cells[2])!));
  }
  return out;
}

describe('docs/configuration.md', () => {
  it('documents every declared variable and nothing else', () => {
    expect([...documented().keys()].sort()).toEqual([...ENV_KEYS].sort());
  });

  it.each(ENV_KEYS)('gives %s its declared default', (key: EnvKey) => {
    const doc = documented().get(key)!;
    const decl = envDeclaration(key);
    if (decl.required) expect(doc).toBe('(required)');
    // an optional variable without a default may document what its absence means (`0`, `false`)
    else if (decl.default !== undefined) expect([key, doc.split(' ')[0]]).toEqual([key, `\`${decl.default}\``]);
  });
});

describe('Kafka security settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unread-kafka-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const problems = (env: Record<string, string>): string[] => {
    try {
      loadConfig({ ...base, ...env });
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('reads TLS and SASL into the Kafka settings', () => {
    const ca = file('ca.pem', '-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n');
    const c = loadConfig({
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'a-real-password',
    });
    expect(c.kafka.ssl).toEqual({ ca: readFileSync(ca, 'utf8') });
    expect(c.kafka.sasl).toEqual({
      mechanism: 'scram-sha-256',
      username: 'u',
      password: 'a-real-password',
    });
    const plain = loadConfig({ ...base, KAFKA_SSL: 'false' });
    expect(plain.kafka.ssl).toBeUndefined();
    expect(plain.kafka.sasl).toBeUndefined();
  });

  it('refuses every half-given TLS setting at once', () => {
    expect(
      problems({
        KAFKA_SSL_CA_FILE: join(dir, 'missing.pem'),
        KAFKA_SSL_CERT_FILE: file('cert.txt', 'not a certificate'),
        KAFKA_SSL_KEY_PASSWORD: 'pass-phrase',
        KAFKA_SSL_SERVERNAME: 'kafka.internal',
      }),
    ).toEqual([
      'KAFKA_SSL_CA_FILE: only meaningful with KAFKA_SSL=true',
      'KAFKA_SSL_CERT_FILE: only meaningful with KAFKA_SSL=true',
      'KAFKA_SSL_KEY_PASSWORD: only meaningful with KAFKA_SSL=true',
      'KAFKA_SSL_SERVERNAME: only meaningful with KAFKA_SSL=true',
      'KAFKA_SSL_KEY_FILE: required with KAFKA_SSL_CERT_FILE (the client certificate is useless without its key)',
      'KAFKA_SSL_KEY_PASSWORD: only meaningful with KAFKA_SSL_KEY_FILE',
      expect.stringMatching(/^KAFKA_SSL_CA_FILE: cannot read .*missing\.pem: ENOENT/),
      `KAFKA_SSL_CERT_FILE: ${join(dir, 'cert.txt')} holds no PEM certificate`,
    ]);
    expect(problems({ KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: file('key.txt', 'nope') })).toEqual([
      'KAFKA_SSL_CERT_FILE: required with KAFKA_SSL_KEY_FILE (the key is useless without its certificate)',
      `KAFKA_SSL_KEY_FILE: ${join(dir, 'key.txt')} holds no PEM private key`,
    ]);
    expect(problems({ KAFKA_SSL: 'yes' })).toEqual(['KAFKA_SSL: KAFKA_SSL must be true or false']);
  });

  it('refuses every half-given SASL setting at once', () => {
    expect(
      problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: '/t' }),
    ).toEqual([
      'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: only meaningful with KAFKA_SASL_MECHANISM=oauthbearer',
      'KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=plain',
      'KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=plain',
    ]);
    expect(problems({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' })).toEqual([
      'KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=scram-sha-512',
    ]);
    expect(problems({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'a-real-password' })).toEqual([
      'KAFKA_SASL_USERNAME: only meaningful with KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_PASSWORD: only meaningful with KAFKA_SASL_MECHANISM',
    ]);
    expect(problems({ KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_USERNAME: 'u' })).toEqual([
      'KAFKA_SASL_USERNAME: not used by KAFKA_SASL_MECHANISM=oauthbearer (the token comes from KAFKA_SASL_OAUTHBEARER_TOKEN_FILE)',
      'KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: required with KAFKA_SASL_MECHANISM=oauthbearer',
    ]);
    expect(
      problems({
        KAFKA_SASL_MECHANISM: 'oauthbearer',
        KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: file('empty-token', '\n'),
      }),
    ).toEqual([`KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: ${join(dir, 'empty-token')} is empty`]);
    expect(problems({ KAFKA_SASL_MECHANISM: 'gssapi' })).toEqual([
      'KAFKA_SASL_MECHANISM: KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512, oauthbearer',
    ]);
    expect(
      problems({
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'change-me',
      }),
    ).toEqual([expect.stringMatching(/^KAFKA_SASL_PASSWORD: a placeholder, not a secret/)]);
  });
});
