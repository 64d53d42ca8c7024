import { Kafka } from 'kafkajs';
import type { AppConfig } from '@app/config';
import { kafkaOptions } from './kafka.factory';

/** A kafkajs error as far as this module reads it. */
interface KafkaError {
  name?: string;
  message?: string;
  code?: string;
  broker?: string;
  apiName?: string;
  cause?: unknown;
}

/** Failures that say nothing about security: the broker is away, not refusing. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);
/** Node's codes for a certificate the client does not accept. */
const CERTIFICATE =
  /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|HOSTNAME_MISMATCH)/;

function chain(err: unknown): KafkaError[] {
  const out: KafkaError[] = [];
  for (let e: unknown = err; e && typeof e === 'object' && out.length < 8;) {
    const k = e as KafkaError;
    out.push(k);
    e = k.cause;
  }
  return out;
}

/**
 * When `err` (from any kafkajs call) says that the broker refused the client's security or
 * does not speak it, a sentence naming the setting to look at; otherwise undefined. What the
 * broker answers to a mismatch (docs/configuration.md):
 * - SASL set, listener without SASL: it does not know SaslHandshake;
 * - SASL refused: kafkajs' SASL authentication error, passed on with the mechanism;
 * - TLS set, listener without TLS: the broker closes the connection during the handshake;
 * - TLS set, certificate not trusted or for another name: Node's certificate error;
 * - no TLS, listener with TLS: the broker closes the connection on the first request.
 */
export function describeKafkaFailure(err: unknown, config: AppConfig['kafka']): string | undefined {
  const errors = chain(err);
  const mech = config.sasl?.mechanism.toUpperCase();
  for (const e of errors) {
    // kafkajs' SASL errors do not say which broker: name the bootstrap list then
    const broker = ` ${e.broker ?? config.brokers.join(',')}`;
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      const who = config.sasl && 'username' in config.sasl ? ` as ${config.sasl.username}` : '';
      return `the broker${broker} refused SASL ${mech ?? ''} authentication${who} (${e.message}): check KAFKA_SASL_MECHANISM and the credentials`;
    }
    if (e.name === 'KafkaJSServerDoesNotSupportApiKey' && /^Sasl/.test(e.apiName ?? '')) {
      return `the broker${broker} does not speak SASL on this listener (it does not know ${e.apiName}): KAFKA_SASL_MECHANISM=${config.sasl?.mechanism ?? '?'} is set, but the listener is PLAINTEXT or SSL`;
    }
  }
  for (const e of errors) {
    if (e.name !== 'KafkaJSConnectionError' && e.name !== 'KafkaJSConnectionClosedError') continue;
    const broker = e.broker ? ` with ${e.broker}` : '';
    if (e.code && UNREACHABLE.has(e.code)) return undefined;
    if (config.ssl) {
      if (e.code && CERTIFICATE.test(e.code)) {
        return `TLS${broker} failed: the client does not trust the broker's certificate (${e.code}: ${e.message}): check KAFKA_SSL_CA_FILE and KAFKA_SSL_SERVERNAME`;
      }
      if (
        e.code === 'ECONNRESET' ||
        e.code === 'EPROTO' ||
        /secure TLS connection|wrong version number|alert/i.test(e.message ?? '')
      ) {
        return `TLS${broker} failed: the broker closed the connection during the handshake (${e.message}): the listener does not speak TLS (PLAINTEXT or SASL_PLAINTEXT: set KAFKA_SSL=false) or it refused the client certificate (KAFKA_SSL_CERT_FILE)`;
      }
    } else if (e.name === 'KafkaJSConnectionClosedError') {
      return `the broker${broker} closed the connection on the first request: its listener may require TLS (SSL or SASL_SSL: set KAFKA_SSL=true)`;
    }
  }
  return undefined;
}

/**
 * A start-up failure because the brokers refused the client's security: its message is the
 * one clear line (what describeKafkaFailure says), and so is its stack, so that an entry
 * point printing `err.stack` prints that line and not kafkajs' retry chain.
 */
export class KafkaRefusedError extends Error {
  constructor(problem: string, cause: unknown) {
    super(`kafka: ${problem}`, { cause });
    this.name = 'KafkaRefusedError';
    this.stack = this.message;
  }
}

/** `err` as a KafkaRefusedError when it is a security refusal, else `err` itself. */
export function asKafkaRefusal(err: unknown, config: AppConfig['kafka']): unknown {
  const problem = describeKafkaFailure(err, config);
  return problem ? new KafkaRefusedError(problem, err) : err;
}

export type KafkaProbeState = 'connecting' | 'connected' | 'refused' | 'unreachable';

/**
 * Connects once at start, and again with a growing delay until it succeeds, so that a broker
 * that refuses the client's security (or does not speak it) is said in one clear log line and
 * in readiness, instead of a client retrying in silence. `refused` is a configuration
 * mismatch that retrying will not heal; `unreachable` is a broker that is away.
 */
export class KafkaProbe {
  private current: KafkaProbeState = 'connecting';
  private reason?: string;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly settled: Promise<void>;
  private settle!: () => void;
  private readonly kafka: Kafka;

  /** Its own client, without kafkajs' retries: each attempt answers at once, and this class retries. */
  constructor(
    private readonly config: AppConfig['kafka'],
    clientId: string,
    private readonly log: (level: 'error' | 'warn' | 'info', message: string) => void,
    private readonly maxDelayMs = 30_000,
  ) {
    this.kafka = new Kafka({ ...kafkaOptions(config, clientId), retry: { retries: 0 } });
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  get state(): KafkaProbeState {
    return this.current;
  }

  /** Why the broker refused the client (a `refused` state), without secrets. */
  get problem(): string | undefined {
    return this.reason;
  }

  /** Resolves once the first attempt has an answer (connected, refused or unreachable). */
  firstAnswer(): Promise<void> {
    return this.settled;
  }

  start(): void {
    void this.attempt(1_000);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async attempt(delayMs: number): Promise<void> {
    const admin = this.kafka.admin();
    let next: KafkaProbeState;
    let reason: string | undefined;
    try {
      await admin.connect();
      next = 'connected';
    } catch (err) {
      reason = describeKafkaFailure(err, this.config);
      next = reason ? 'refused' : 'unreachable';
      reason ??= (err as Error).message;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (this.stopped) return;
    if (next !== this.current || reason !== this.reason) {
      if (next === 'refused')
        this.log('error', `kafka: ${reason}; not ready until the broker accepts the client`);
      else if (next === 'unreachable')
        this.log(
          'warn',
          `kafka: brokers ${this.config.brokers.join(',')} unreachable (${reason}); retrying`,
        );
      else if (this.current !== 'connecting') this.log('info', 'kafka: connected');
    }
    this.current = next;
    this.reason = next === 'refused' ? reason : undefined;
    this.settle();
    if (next === 'connected') return;
    this.timer = setTimeout(
      () => void this.attempt(Math.min(delayMs * 2, this.maxDelayMs)),
      delayMs,
    );
    this.timer.unref();
  }
}
