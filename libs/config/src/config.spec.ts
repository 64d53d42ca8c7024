import { ConfigError, loadConfig } from './config';

const base = { KAFKA_BROKERS: 'k1:9092,k2:9092', REDIS_URL: 'redis://127.0.0.1:6379' };

describe('loadConfig', () => {
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
      },
    });
    expect(c.rateLimits).toEqual({ tencentPerSecond: 200, qchatPerSecond: 100, qchatBlockMs: 10_000 });
    expect(c.mentionRetentionMs).toBe(7 * 24 * 3600 * 1000);
    expect(c.tenants).toEqual({ tencent: [], netease: [] });
  });

  it('reads tenants and cluster nodes', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'k:9092',
      REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7001',
      TENANTS_JSON: JSON.stringify({
        tencent: [{ sdkAppId: 1400000001, secretKey: 'k', admins: ['admin'] }],
        netease: [{ appKey: 'ak', appSecret: 's' }],
      }),
    });
    expect(c.redis.clusterNodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(c.tenants.tencent[0]).toMatchObject({ sdkAppId: '1400000001', secretKey: 'k', admins: ['admin'] });
    expect(c.tenants.netease[0]).toMatchObject({ appKey: 'ak', appSecret: 's' });
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
      'REDIS_URL or REDIS_CLUSTER_NODES: one of them must be set',
      'tenants.tencent.0.sdkAppId: sdkAppId must be a positive integer (as a string or number)',
      'tenants.tencent.0.secretKey: secretKey must be longer than or equal to 1 characters',
      'tenants.tencent.0.admins: admins must contain at least 1 elements',
    ]);
  });

  it('refuses both REDIS_URL and REDIS_CLUSTER_NODES, and bad tenants JSON', () => {
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'h:1', TENANTS_JSON: '{' })).toThrow(
      /REDIS_URL and REDIS_CLUSTER_NODES: set only one of them[\s\S]*TENANTS_JSON: not valid JSON/,
    );
  });
});
