import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { QCHAT, QchatError } from '../qchat/qchat.errors';
import { TENCENT, TencentError, tencentFail } from '../tencent/tencent.errors';

export type ApiFamily = 'tencent' | 'qchat' | 'other';

export function familyOf(path: string): ApiFamily {
  if (path.startsWith('/v4/')) return 'tencent';
  if (path.startsWith('/nimserver/')) return 'qchat';
  return 'other';
}

/** True for errors that mean Redis or the broker did not answer in time (vs. failed outright). */
export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (/timed? ?out|timeout/i.test(err.message) || err.name === 'ProduceTimeoutError');
}

/**
 * A client error raised before Nest sees the request: body-parser's errors (http-errors with
 * an `expose`d 4xx status and a `type` such as entity.too.large, charset.unsupported,
 * encoding.unsupported, request.aborted). Turned into an HttpException so it is answered
 * in the family's parameter-error shape, not as an internal error.
 */
function asClientError(exception: unknown): HttpException | undefined {
  if (!(exception instanceof Error)) return undefined;
  const e = exception as Error & { status?: unknown; statusCode?: unknown; expose?: unknown; type?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined || status < 400 || status > 499 || e.expose !== true) return undefined;
  return new HttpException({ message: e.message, type: typeof e.type === 'string' ? e.type : undefined }, status, { cause: { type: e.type } });
}

/**
 * The one place every failure becomes a wire answer in the caller's API family: Tencent
 * routes answer HTTP 200 {ActionStatus: FAIL, ErrorCode, ErrorInfo}; QChat routes HTTP 200
 * {code, desc}. Unknown errors are logged with an id and answered as the family's internal
 * error, never with a stack trace.
 */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Gateway');

  catch(thrown: unknown, host: ArgumentsHost): void {
    const exception = asClientError(thrown) ?? thrown;
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (res.headersSent) return;
    const family = familyOf(req.path);

    if (exception instanceof TencentError) {
      res.status(200).json(tencentFail(exception.code, exception.info));
      return;
    }
    if (exception instanceof QchatError) {
      res.status(200).json({ code: exception.code, desc: exception.desc });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const type = (exception.cause as { type?: string } | undefined)?.type ?? (body as { type?: string }).type;
      if (family === 'tencent') {
        if (status === 404) {
          res.status(200).json(tencentFail(TENCENT.BAD_RESOURCE, `request resource not found: ${req.method} ${req.path}`));
        } else if (status === 413 || type === 'entity.too.large') {
          res.status(200).json(tencentFail(TENCENT.HTTP_PARSE, 'request body too large'));
        } else {
          res.status(200).json(tencentFail(TENCENT.HTTP_PARSE, `bad request: ${exception.message}`));
        }
        return;
      }
      if (family === 'qchat') {
        if (status === 404) res.status(200).json({ code: QCHAT.NOT_FOUND, desc: `no such API: ${req.path}` });
        else res.status(200).json({ code: QCHAT.PARAM, desc: status === 413 ? 'request body too large' : 'bad request' });
        return;
      }
      // An unmatched path answers a bare "not found" (Express's message would echo the path);
      // a route's own 404 (the summary API's unknown account) keeps its message.
      const unmatched = status === 404 && req.route === undefined;
      res.status(status).json({ statusCode: status, message: unmatched ? 'not found' : exception.message });
      return;
    }

    const id = randomUUID();
    const timeout = isTimeout(exception);
    this.logger.error(
      `request ${id} ${req.method} ${req.path} failed: ${exception instanceof Error ? exception.stack : String(exception)}`,
    );
    if (family === 'tencent') {
      res
        .status(200)
        .json(
          tencentFail(
            timeout ? TENCENT.INTERNAL_TIMEOUT : TENCENT.INTERNAL,
            `${timeout ? 'internal server timeout' : 'internal server error'}, retry (request ${id})`,
          ),
        );
    } else if (family === 'qchat') {
      res
        .status(200)
        .json({ code: timeout ? QCHAT.BUSY : QCHAT.INTERNAL, desc: `${timeout ? 'server busy' : 'internal error'} (request ${id})` });
    } else {
      res.status(500).json({ statusCode: 500, message: `internal error (request ${id})` });
    }
  }
}
