import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server, type TLSSocket } from 'node:tls';
import type { LoggerService } from '@nestjs/common';
import { startProjector, type RunningProjector } from '../apps/projector/src/projector';
import { EventProducer, createKafka } from '@app/kafka';
import { Harness, testConfig } from './support/harness';
import { makeCertificates, type TlsFiles } from './support/tls-certs';
import { waitFor } from './support/wait';

const METADATA = 3;
const FIND_COORDINATOR = 10;

/**
 * A TLS-terminating proxy in front of the test broker (one listener per broker). The broker
 * advertises its own plaintext address in Metadata and FindCoordinator answers, so the proxy
 * rewrites those (the non-flexible versions kafkajs 2.2.4 uses: Metadata v0-v6,
 * FindCoordinator v0-v2) to its own listeners; every other byte passes unchanged.
 */
class KafkaTlsProxy {
  private constructor(
    private readonly servers: Server[],
    readonly brokers: string[],
  ) {}

  static async start(upstream: string[], tls: TlsFiles): Promise<KafkaTlsProxy> {
    const servers: Server[] = [];
    const map = new Map<number, number>(); // broker port -> proxy port
    for (const hp of upstream) {
      const port = Number(hp.slice(hp.lastIndexOf(':') + 1));
      const server = createTlsServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (client) => KafkaTlsProxy.pipe(client, port, map));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      map.set(port, (server.address() as AddressInfo).port);
      servers.push(server);
    }
    return new KafkaTlsProxy(servers, [...map.values()].map((p) => `127.0.0.1:${p}`));
  }

  private static pipe(client: TLSSocket, port: number, map: Map<number, number>): void {
    const broker = tcpConnect({ host: '127.0.0.1', port });
    const asked = new Map<number, { key: number; version: number }>();
    const close = () => {
      client.destroy();
      broker.destroy();
    };
    client.on('error', close).on('close', close);
    broker.on('error', close).on('close', close);
    frames(client, (frame) => {
      asked.set(frame.readInt32BE(4), { key: frame.readInt16BE(0), version: frame.readInt16BE(2) });
      broker.write(sized(frame));
    });
    frames(broker, (frame) => {
      const req = asked.get(frame.readInt32BE(0));
      asked.delete(frame.readInt32BE(0));
      broker.pause();
      client.write(sized(req ? rewrite(frame, req, map) : frame), () => broker.resume());
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Calls `on` with each Kafka frame (without its size) read from `socket`. */
function frames(socket: NodeJS.ReadableStream, on: (frame: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
      const size = buf.readInt32BE(0);
      on(buf.subarray(4, 4 + size));
      buf = buf.subarray(4 + size);
    }
  });
}

function sized(frame: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(frame.length);
  return Buffer.concat([size, frame]);
}

/** A response with every broker address of a Metadata or FindCoordinator answer replaced by the proxy's. */
function rewrite(frame: Buffer, req: { key: number; version: number }, map: Map<number, number>): Buffer {
  if (req.key !== METADATA && req.key !== FIND_COORDINATOR) return frame;
  if ((req.key === METADATA && req.version > 6) || (req.key === FIND_COORDINATOR && req.version > 2)) {
    throw new Error(`the proxy does not rewrite ${req.key} v${req.version}`);
  }
  const out: Buffer[] = [];
  let at = 4; // the correlation id
  const copy = (n: number) => {
    out.push(frame.subarray(at, at + n));
    at += n;
  };
  const str = () => {
    const n = frame.readInt16BE(at);
    copy(2 + Math.max(n, 0));
  };
  // host (string) and port (int32), replaced
  const address = () => {
    const n = frame.readInt16BE(at);
    at += 2 + n;
    const port = frame.readInt32BE(at);
    at += 4;
    const host = Buffer.from('127.0.0.1');
    const head = Buffer.alloc(2);
    head.writeInt16BE(host.length);
    const p = Buffer.alloc(4);
    p.writeInt32BE(map.get(port) ?? port);
    out.push(head, host, p);
  };
  out.push(frame.subarray(0, 4));
  if (req.key === METADATA) {
    if (req.version >= 3) copy(4); // throttle_time_ms
    const count = frame.readInt32BE(at);
    copy(4);
    for (let i = 0; i < count; i++) {
      copy(4); // node_id
      address();
      if (req.version >= 1) str(); // rack
    }
  } else {
    if (req.version >= 1) copy(4); // throttle_time_ms
    copy(2); // error_code
    if (req.version >= 1) str(); // error_message
    copy(4); // node_id
    address();
  }
  out.push(frame.subarray(at));
  return Buffer.concat(out);
}

class Lines implements LoggerService {
  readonly lines: string[] = [];
  log(m: unknown): void {
    this.lines.push(String(m));
  }
  error(m: unknown): void {
    this.lines.push(`error ${String(m)}`);
  }
  warn(m: unknown): void {
    this.lines.push(`warn ${String(m)}`);
  }
}

/** TLS end to end through a TLS-terminating proxy in front of the test broker (docs/testing.md). */
describe('Kafka over TLS, through a TLS-terminating proxy', () => {
  let h: Harness;
  let proxy: KafkaTlsProxy;
  let projector: RunningProjector | undefined;
  let tls: TlsFiles;
  const dir = mkdtempSync(join(tmpdir(), 'unread-kafka-tls-'));

  beforeAll(async () => {
    h = await Harness.start({ projector: false, gateway: false });
    tls = await makeCertificates(dir, 'kafka.test');
    proxy = await KafkaTlsProxy.start(h.broker.brokers, tls);
  });
  afterAll(async () => {
    await projector?.close().catch(() => undefined);
    await proxy?.stop();
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the projector consumes and dead-letters over TLS what a TLS producer wrote', async () => {
    const env = { KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: tls.ca, KAFKA_SSL_SERVERNAME: tls.serverName };
    const config = testConfig(proxy.brokers, h.redisServer.url, { ...env });
    // the same topics as the harness's (plaintext) clients read
    config.kafka.topics = h.config.kafka.topics;
    config.kafka.consumerGroup = h.config.kafka.consumerGroup;
    config.redis.keyPrefix = h.config.redis.keyPrefix;
    projector = await startProjector(config, { logger: false, metricsPort: 0 });
    await waitFor(() => fetch(`http://127.0.0.1:${projector!.metricsPort}/ready`).then((r) => r.status), (s) => s === 200, { what: 'projector ready over TLS', timeoutMs: 30_000 });
    const producer = new EventProducer(createKafka(config.kafka, 'tls-test'), config.kafka.topics);
    await producer.sendRaw(config.kafka.topics.messageSent, [{ key: 'k', value: 'not json, sent over TLS' }]);
    await producer.disconnect();
    const dead = await h.deadLetters(1, 30_000);
    expect(dead.map((d) => d.value)).toEqual(['not json, sent over TLS']);
  }, 60_000);

  it('a client without the CA says it does not trust the broker certificate', async () => {
    const logger = new Lines();
    const config = testConfig(proxy.brokers, h.redisServer.url, { KAFKA_SSL: 'true', KAFKA_SSL_SERVERNAME: tls.serverName });
    const err = await startProjector(config, { logger, metricsPort: 0 }).then(
      async (p) => {
        await p.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/^kafka: TLS with 127\.0\.0\.1:\d+ failed: the client does not trust the broker's certificate \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    expect(logger.lines.filter((l) => l.startsWith('error kafka:'))).toEqual([expect.stringMatching(/does not trust the broker's certificate.*KAFKA_SSL_CA_FILE/)]);
  }, 40_000);
});
