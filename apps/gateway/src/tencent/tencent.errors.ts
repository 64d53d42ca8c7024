/** A Tencent Cloud IM REST failure: answered as HTTP 200 with ActionStatus FAIL. */
export class TencentError extends Error {
  constructor(
    readonly code: number,
    readonly info: string,
  ) {
    super(info);
    this.name = 'TencentError';
  }
}

export interface TencentBody {
  ActionStatus: 'OK' | 'FAIL';
  ErrorCode: number;
  ErrorInfo: string;
  [field: string]: unknown;
}

export function tencentFail(code: number, info: string): TencentBody {
  return { ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info };
}

/** A success body: ActionStatus OK, ErrorCode 0, empty ErrorInfo, then the endpoint's fields. */
export function tencentOk<T extends Record<string, unknown>>(fields?: T): TencentBody & T {
  return { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', ...(fields as T) };
}

/** Common error codes (API-NOTES.md); endpoint-specific ones live next to their endpoint. */
export const TENCENT = {
  HTTP_PARSE: 60002,
  JSON_PARSE: 60003,
  SDKAPPID_INVALID: 60006,
  BAD_RESOURCE: 60009,
  NOT_ADMIN: 60010,
  RATE_LIMIT: 60007,
  SDKAPPID_MISSING: 60012,
  ACCOUNT_TYPE: 60015,
  USERSIG_EXPIRED: 70001,
  USERSIG_UNPARSABLE: 70003,
  USERSIG_BAD: 70009,
  IDENTIFIER_MISMATCH: 70013,
  SDKAPPID_MISMATCH: 70014,
  SDKAPPID_UNKNOWN: 70020,
  ACCOUNT_NOT_FOUND: 70107,
  INTERNAL_TIMEOUT: 70169,
  INTERNAL: 91000,
} as const;
