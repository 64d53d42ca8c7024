import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runWorker } from './worker';

/**
 * The queries' baseline: a bare node:http server in its own process (as the gateway is),
 * answering every request with a fixed JSON body (the endpoint's own response, byte for byte).
 */
runWorker<{ body: string }, { served: number }>(async ({ body }, control) => {
  const payload = Buffer.from(body);
  let served = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      served++;
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length }).end(payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  control.ready((server.address() as AddressInfo).port);
  await control.stopped;
  server.close();
  return { served };
});
