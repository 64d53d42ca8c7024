/** A NetEase QChat failure: answered as HTTP 200 with {code, desc}. */
export class QchatError extends Error {
  constructor(
    readonly code: number,
    readonly desc: string,
  ) {
    super(desc);
    this.name = 'QchatError';
  }
}

export const QCHAT = {
  OK: 200,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOO_LONG: 405,
  PARAM: 414,
  RATE_LIMIT: 416,
  REPEATED: 431,
  INTERNAL: 500,
  BUSY: 503,
} as const;
