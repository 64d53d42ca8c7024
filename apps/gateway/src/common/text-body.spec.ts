import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readPlainText } from './text-body';

/** A small seeded generator (xorshift32), so a failure names a reproducible case. */
function bytesGenerator(seed: number): (max: number) => number {
  let x = seed >>> 0 || 1;
  return (max) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % max;
  };
}

const LIMIT = 1024;

/** One server answering what each reader made of the same request: its body, or its error's status and type. */
async function withServer(run: (url: string) => Promise<void>): Promise<void> {
  const parser = express.text({ type: () => true, limit: LIMIT });
  const report = (res: Response) => (err?: unknown) => {
    const e = err as { status?: number; type?: string } | undefined;
    res.json(err ? { error: [e?.status, e?.type] } : { body: (res.req as Request & { body?: unknown }).body ?? null });
  };
  const app = express();
  app.post('/ours', (req: Request, res: Response) => readPlainText(req, report(res) as NextFunction, LIMIT, () => parser(req, res, report(res) as NextFunction)));
  app.post('/theirs', (req: Request, res: Response) => parser(req, res, report(res) as NextFunction));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

/** Posts `chunks` (written one by one) with `headers`; the JSON answer. */
function post(url: string, headers: IncomingHttpHeaders, chunks: Buffer[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('readPlainText', () => {
  it('reads every body as body-parser does: UTF-8 with invalid and split sequences, a BOM, empty; the others go to body-parser', async () => {
    const next = bytesGenerator(20261207);
    const pieces = [[0xef, 0xbb, 0xbf], [0xe4, 0xbd, 0xa0], [0xf0, 0x9f, 0x98, 0x80], [0xc3], [0xa9], [0xff], [0xed, 0xa0, 0x80], [0x7b], [0x22], [0x61], [0x0a], [0x00]];
    await withServer(async (url) => {
      for (let i = 0; i < 300; i++) {
        const bytes: number[] = [];
        const n = next(4) === 0 ? 0 : next(40);
        for (let j = 0; j < n; j++) bytes.push(...pieces[next(pieces.length)]!);
        const body = Buffer.from(bytes);
        // split anywhere, also inside a multi-byte sequence
        const cut = body.length > 1 ? next(body.length) : 0;
        const chunks = cut > 0 ? [body.subarray(0, cut), body.subarray(cut)] : [body];
        const kind = next(5);
        const headers: IncomingHttpHeaders =
          kind === 0
            ? { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }
            : kind === 1
              ? { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length) }
              : { 'content-type': 'application/json', 'content-length': String(body.length) };
        const [ours, theirs] = await Promise.all([post(`${url}/ours`, headers, chunks), post(`${url}/theirs`, headers, chunks)]);
        expect({ case: i, answer: ours }).toEqual({ case: i, answer: theirs });
      }
      // over the limit: body-parser's 413 either way
      const big = Buffer.alloc(LIMIT + 1, 0x61);
      const headers = { 'content-length': String(big.length) };
      expect(await post(`${url}/ours`, headers, [big])).toEqual(await post(`${url}/theirs`, headers, [big]));
      expect(await post(`${url}/ours`, headers, [big])).toEqual({ error: [413, 'entity.too.large'] });
    });
  });
});
