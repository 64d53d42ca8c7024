import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { KafkaProbe } from '@app/kafka';
import type { HeldPartition } from './partition-waits';
import type { ProjectorMetrics } from './projector.metrics';
import type { ConsumerWatch, RedisProbe } from './readiness.monitor';

/** What the endpoints report on. */
export interface ProjectorEndpointsParts {
  metrics: ProjectorMetrics;
  consumer: ConsumerWatch;
  redis: RedisProbe;
  kafka: KafkaProbe;
  /** Partitions that keep the projector from being ready (behind, or waiting on Redis too long). */
  held: () => HeldPartition[];
}

/** The projector's HTTP endpoints, listening. */
export interface ProjectorEndpoints {
  /** The port they listen on. */
  port?: number;
  close(): void;
}

/**
 * Serves the projector's `GET /metrics` (Prometheus text; `?name[]=a&name[]=b`, the filter
 * Prometheus' federation endpoint takes, renders only those metrics) and `GET /ready` (200
 * when the consumer has joined, Redis answers and no partition is held, else 503; the body
 * says which: docs/operations.md) on `port` (0: any free port).
 */
export async function serveProjectorEndpoints(port: number, parts: ProjectorEndpointsParts): Promise<ProjectorEndpoints> {
  const server: Server = createServer((req, res) => route(parts, req, res));
  await new Promise<void>((r) => server.listen(port, r));
  const addr = server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : undefined, close: () => void server.close() };
}

function route(parts: ProjectorEndpointsParts, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://projector');
  if (url.pathname === '/metrics') metricsText(parts, url).catch(() => res.writeHead(500).end());
  else if (url.pathname === '/ready') ready(parts, res).catch(() => res.writeHead(500).end());
  else res.writeHead(404).end();

  async function metricsText(p: ProjectorEndpointsParts, u: URL): Promise<void> {
    const { metrics } = p;
    metrics.ready.set(p.consumer.isJoined && p.redis.isReachable && p.held().length === 0 ? 1 : 0);
    // A poller sampling one counter every few ms does not pay for rendering them all.
    const names = u.searchParams.getAll('name[]');
    const text =
      names.length > 0
        ? (await Promise.all(names.map((n) => metrics.registry.getSingleMetricAsString(n).catch(() => '')))).filter(Boolean).join('\n')
        : await metrics.registry.metrics();
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
  }
}

async function ready(parts: ProjectorEndpointsParts, res: ServerResponse): Promise<void> {
  const redisOk = await parts.redis.probe();
  const joined = parts.consumer.isJoined;
  const held = parts.held();
  const isReady = joined && redisOk && held.length === 0;
  parts.metrics.ready.set(isReady ? 1 : 0);
  const body = {
    ready: isReady,
    consumer: joined ? 'joined' : 'not joined',
    redis: redisOk ? 'reachable' : 'unreachable',
    ...(held.length > 0 ? { partitions: held } : {}),
    ...(parts.kafka.state === 'refused' ? { kafka: 'refused' } : {}),
  };
  res.writeHead(body.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
