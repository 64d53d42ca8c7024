import type { LoggerService } from '@nestjs/common';
import { startGateway, type RunningGateway } from '../apps/gateway/src/gateway';
import { startProjector } from '../apps/projector/src/projector';
import { KafkaRefusedError } from '@app/kafka';
import { ensureCliBuilt, runCli } from './support/cli';
import { Harness, testConfig } from './support/harness';
import { waitFor } from './support/wait';

/** A Nest logger that keeps every line (the apps' own log lines are the thing under test). */
class Lines implements LoggerService {
  readonly lines: string[] = [];
  log(m: unknown): void {
    this.lines.push(`log ${String(m)}`);
  }
  error(m: unknown): void {
    this.lines.push(`error ${String(m)}`);
  }
  warn(m: unknown): void {
    this.lines.push(`warn ${String(m)}`);
  }
  debug(): void {}
  verbose(): void {}
}

const SASL = { KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'unread', KAFKA_SASL_PASSWORD: 'a-long-real-password' };
const NO_SASL = /^kafka: the broker 127\.0\.0\.1:\d+ does not speak SASL on this listener \(it does not know SaslHandshake\): KAFKA_SASL_MECHANISM=scram-sha-256 is set, but the listener is PLAINTEXT or SSL/;
const NO_TLS = /^kafka: TLS with 127\.0\.0\.1:\d+ failed: the broker closed the connection during the handshake/;

/**
 * Secured clients against the plaintext test broker (docs/testing.md: the mock cluster speaks
 * neither TLS nor SASL): each app says why in one line and is not ready, never hangs.
 */
describe('Kafka security against a broker that does not speak it', () => {
  let h: Harness;
  const gateways: RunningGateway[] = [];

  beforeAll(async () => {
    h = await Harness.start({ projector: false, gateway: false });
  });
  afterAll(async () => {
    for (const g of gateways) await g.close().catch(() => undefined);
    await h?.stop();
  });

  it.each([
    ['SASL', SASL, NO_SASL],
    ['TLS', { KAFKA_SSL: 'true' }, NO_TLS],
  ])('%s: the gateway logs the reason and answers /health/ready 503 kafka refused', async (_name, env, line) => {
    const logger = new Lines();
    const gateway = await startGateway(testConfig(h.broker.brokers, h.redisServer.url, env), { logger });
    gateways.push(gateway);
    const ready = await waitFor(
      async () => {
        const res = await fetch(`${gateway.url}/health/ready`);
        return { status: res.status, body: await res.json() };
      },
      (r) => r.status === 503,
      { what: 'a not-ready answer' },
    );
    expect(ready).toEqual({ status: 503, body: { status: 'not-ready', redis: 'up', kafka: 'refused' } });
    const said = logger.lines.filter((l) => l.startsWith('error kafka:')).map((l) => l.slice('error '.length));
    expect(said).toHaveLength(1); // said once, not at every retry
    expect(said[0]).toMatch(line);
    expect(said[0]).not.toContain(SASL.KAFKA_SASL_PASSWORD);
  });

  it('the same gateway without security is ready on the same broker (the refusal is the settings)', async () => {
    const gateway = await startGateway(testConfig(h.broker.brokers, h.redisServer.url), { logger: false });
    gateways.push(gateway);
    const res = await waitFor(() => fetch(`${gateway.url}/health/ready`), (r) => r.status === 200, { what: 'ready' });
    expect(await res.json()).toEqual({ status: 'ready', redis: 'up' });
  });

  it.each([
    ['SASL', SASL, NO_SASL],
    ['TLS', { KAFKA_SSL: 'true' }, NO_TLS],
  ])('%s: the projector logs the reason and fails to start with that one line', async (_name, env, line) => {
    const logger = new Lines();
    const started = Date.now();
    const err = await startProjector(testConfig(h.broker.brokers, h.redisServer.url, env), { logger, metricsPort: 0 }).then(
      async (p) => {
        await p.close();
        throw new Error('the projector started against a broker that refuses it');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaRefusedError);
    expect((err as Error).message).toMatch(line);
    expect((err as Error).stack).toBe((err as Error).message);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(logger.lines.filter((l) => l.startsWith('error kafka:')).map((l) => l.slice('error '.length))).toEqual([expect.stringMatching(line)]);
  }, 40_000);

  it('the CLI ends with status 1 and the one line', async () => {
    ensureCliBuilt();
    const env = { KAFKA_BROKERS: h.broker.brokers.join(','), TOPIC_MESSAGE_SENT: h.topics.messageSent, ...SASL };
    const event = { type: 'account-registered', appId: '1400000001', account: 'alice', at: Date.now() };
    const r = await runCli(['produce', '-'], env, `${JSON.stringify(event)}\n`);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^unread: ${NO_SASL.source.slice(1)}`));
  }, 30_000);
});
