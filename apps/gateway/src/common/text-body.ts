import type { NextFunction, Request } from 'express';

/**
 * Reads the body as text when it is the plain case every vendor call is: a Content-Length
 * of at most `limitBytes`, no Content-Encoding, no Transfer-Encoding (the caller checked the
 * charset is UTF-8 or absent). It gives what body-parser's text parser gives: `req.body` the
 * bytes decoded as UTF-8 with a leading BOM dropped (iconv-lite's decoder does), `''` for an
 * empty body; a request aborted or failing mid-body passes a 400 error as body-parser does.
 * Anything else goes to `fallback` (body-parser: inflating, the limit's 413, chunked bodies).
 * `text-body.spec.ts` compares the two on the same requests.
 */
export function readPlainText(req: Request, next: NextFunction, limitBytes: number, fallback: () => void): void {
  const h = req.headers;
  const declared = h['content-length'];
  if (declared === undefined || h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined || !/^[0-9]{1,9}$/.test(declared)) {
    fallback();
    return;
  }
  const length = Number(declared);
  if (length > limitBytes) {
    fallback();
    return;
  }
  const target = req as Request & { body?: unknown };
  if (length === 0) {
    target.body = '';
    next();
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    received += chunk.length;
  };
  const fail = (err: Error, type?: string): void => {
    cleanup();
    req.resume();
    next(Object.assign(err, { status: 400, statusCode: 400, expose: true }, type ? { type } : {}));
  };
  const onEnd = (): void => {
    cleanup();
    if (received !== length) {
      fail(new Error('request size did not match content length'), 'request.size.invalid');
      return;
    }
    const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8');
    target.body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    next();
  };
  const onAborted = (): void => fail(new Error('request aborted'), 'request.aborted');
  const onError = (err: Error): void => fail(err);
  function cleanup(): void {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('aborted', onAborted);
    req.off('error', onError);
  }
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('aborted', onAborted);
  req.on('error', onError);
}
