import autocannon from 'autocannon';
import { createHash, randomBytes } from 'node:crypto';
import { runWorker } from './worker';

export interface LoadInput {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  /** Seconds of warm-up (discarded), then seconds measured. */
  warmupSeconds: number;
  durationSeconds: number;
  /** A substring every good response body contains (checked for every response, on both sides of a comparison). */
  expect: string;
  /** QChat auth: a fresh Nonce and CheckSum per request. */
  qchat?: { appKey: string; appSecret: string };
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  total: number;
  /** Requests answered during the warm-up (not in `total`). */
  warmupTotal: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Responses (2xx) whose body lacked `expect`: an error answered in the API's own shape. */
  bad: number;
  sampleBad?: string;
}

/**
 * The load generator (autocannon), in its own process so it never shares an event loop
 * with the server it measures. The same worker, options and checks serve the gateway and
 * the bare baseline.
 */
function run(input: LoadInput, seconds: number, state: { bad: number; sampleBad?: string }): Promise<autocannon.Result> {
  const nonceBase = randomBytes(6).toString('hex');
  let n = 0;
  const qchat = input.qchat;
  const request: autocannon.Request = {
    method: 'POST',
    body: input.body,
    headers: input.headers,
    onResponse: (status: number, body: string) => {
      if (status >= 200 && status < 300 && !body.includes(input.expect)) {
        state.bad++;
        state.sampleBad ??= body.slice(0, 300);
      }
    },
  };
  if (qchat) {
    request.setupRequest = (req: autocannon.Request) => {
      const nonce = `${nonceBase}${(n++).toString(36)}`;
      const curTime = String(Math.floor(Date.now() / 1000));
      const checkSum = createHash('sha1').update(qchat.appSecret + nonce + curTime).digest('hex');
      return { ...req, headers: { ...input.headers, AppKey: qchat.appKey, Nonce: nonce, CurTime: curTime, CheckSum: checkSum } };
    };
  }
  return new Promise((resolve, reject) => {
    autocannon(
      { url: input.url, method: 'POST', connections: input.connections, duration: seconds, requests: [request], timeout: 10 },
      (err, result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result)),
    );
  });
}

runWorker<LoadInput, LoadResult>(async (input) => {
  const warmup = input.warmupSeconds > 0 ? await run(input, input.warmupSeconds, { bad: 0 }) : undefined;
  const state: { bad: number; sampleBad?: string } = { bad: 0 };
  const r = await run(input, input.durationSeconds, state);
  return {
    requestsPerSecond: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    warmupTotal: warmup?.requests.total ?? 0,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    bad: state.bad,
    sampleBad: state.sampleBad,
  };
});
