import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, type ISocketFactoryArgs } from 'kafkajs';
import { loadConfig } from '@app/config';
import { kafkaOptions } from './kafka.factory';

const CA = '-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n';

describe('kafkaOptions: the settings as kafkajs receives them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'unread-kafka-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const base = { KAFKA_BROKERS: 'b1:9093,b2:9093', REDIS_URL: 'redis://127.0.0.1:6379' };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plaintext: no ssl, no sasl', () => {
    const o = kafkaOptions(loadConfig(base).kafka, 'c');
    expect(o.brokers).toEqual(['b1:9093', 'b2:9093']);
    expect('ssl' in o).toBe(false);
    expect('sasl' in o).toBe(false);
  });

  it('KAFKA_SSL alone: TLS with the system CAs', () => {
    expect(kafkaOptions(loadConfig({ ...base, KAFKA_SSL: 'true' }).kafka, 'c').ssl).toBe(true);
  });

  it('every TLS file and name, byte for byte', () => {
    const env = {
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: file('ca.pem', CA),
      KAFKA_SSL_CERT_FILE: file('cert.pem', CERT),
      KAFKA_SSL_KEY_FILE: file('key.pem', KEY),
      KAFKA_SSL_KEY_PASSWORD: 'k3y-pass-phrase',
      KAFKA_SSL_SERVERNAME: 'kafka.internal',
    };
    expect(kafkaOptions(loadConfig(env).kafka, 'c').ssl).toStrictEqual({
      ca: CA,
      cert: CERT,
      key: KEY,
      passphrase: 'k3y-pass-phrase',
      servername: 'kafka.internal',
    });
  });

  it.each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)(
    'SASL %s with its user and password',
    (mechanism) => {
      const env = {
        ...base,
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: mechanism,
        KAFKA_SASL_USERNAME: 'svc-unread',
        KAFKA_SASL_PASSWORD: 's3cr3t-pw',
      };
      const o = kafkaOptions(loadConfig(env).kafka, 'c');
      expect(o.sasl).toStrictEqual({ mechanism, username: 'svc-unread', password: 's3cr3t-pw' });
      expect(o.ssl).toBe(true);
    },
  );

  it('OAUTHBEARER: the token file is read at every authentication', async () => {
    const token = file('token', 'eyJ.first.token\n');
    const o = kafkaOptions(
      loadConfig({
        ...base,
        KAFKA_SASL_MECHANISM: 'oauthbearer',
        KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: token,
      }).kafka,
      'c',
    );
    expect(o.sasl?.mechanism).toBe('oauthbearer');
    const provider = (o.sasl as { oauthBearerProvider: () => Promise<{ value: string }> })
      .oauthBearerProvider;
    await expect(provider()).resolves.toStrictEqual({ value: 'eyJ.first.token' });
    writeFileSync(token, 'eyJ.renewed.token');
    await expect(provider()).resolves.toStrictEqual({ value: 'eyJ.renewed.token' });
  });

  it('kafkajs hands the TLS options to the socket it opens, unchanged', async () => {
    const env = {
      ...base,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: file('ca2.pem', CA),
      KAFKA_SSL_SERVERNAME: 'kafka.internal',
    };
    const seen: ISocketFactoryArgs[] = [];
    const kafka = new Kafka({
      ...kafkaOptions(loadConfig(env).kafka, 'c'),
      retry: { retries: 0 },
      socketFactory: (args) => {
        seen.push(args);
        const socket = new Socket();
        process.nextTick(() => socket.destroy(new Error('no broker in a unit test')));
        return socket;
      },
    });
    const admin = kafka.admin();
    await expect(admin.connect()).rejects.toThrow();
    expect(seen.length).toBeGreaterThan(0);
    expect(['b1', 'b2']).toContain(seen[0]!.host);
    expect(seen[0]!.port).toBe(9093);
    expect(seen[0]!.ssl).toStrictEqual({ ca: CA, servername: 'kafka.internal' });
  });
});
