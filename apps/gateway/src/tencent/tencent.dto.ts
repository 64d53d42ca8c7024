import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { ErrorDoc, ErrorFamily } from '../common/openapi';
import { TENCENT } from './tencent.errors';

/** Every Tencent answer: ActionStatus, ErrorCode, ErrorInfo. */
export class TencentOkDto {
  @ApiProperty({ enum: ['OK'], example: 'OK' }) ActionStatus!: 'OK';
  @ApiProperty({ type: 'integer', enum: [0], example: 0 }) ErrorCode!: number;
  @ApiProperty({ enum: [''], example: '' }) ErrorInfo!: string;
}

/** A Tencent failure (HTTP 200). */
export class TencentFailDto {
  @ApiProperty({ enum: ['FAIL'], example: 'FAIL' }) ActionStatus!: 'FAIL';
  @ApiProperty({ type: 'integer', description: 'the vendor error code (docs/api/tencent.md)', example: 60007 }) ErrorCode!: number;
  @ApiProperty({ description: 'a human-readable reason', example: 'over the limit of 200 calls per second for /v4/openim/get_c2c_unread_msg_num' })
  ErrorInfo!: string;
}

export const TENCENT_FAMILY: ErrorFamily = {
  dto: TencentFailDto,
  body: (e: ErrorDoc) => ({ ActionStatus: 'FAIL', ErrorCode: e.code, ErrorInfo: e.message }),
};

/** The common layer's answers (TencentGuard, the exception filter), shared by every /v4 command. */
export const TENCENT_COMMON_ERRORS: readonly ErrorDoc[] = [
  { code: TENCENT.SDKAPPID_MISSING, when: 'sdkappid missing', message: 'sdkappid is missing' },
  { code: TENCENT.SDKAPPID_INVALID, when: 'sdkappid not a decimal SDKAppID', message: 'sdkappid is invalid' },
  { code: TENCENT.SDKAPPID_UNKNOWN, when: 'sdkappid not configured', message: 'sdkappid 1400000009 does not exist' },
  { code: TENCENT.HTTP_PARSE, when: 'URL parameter missing, repeated or malformed; body over 256 KiB', message: 'usersig is missing' },
  { code: TENCENT.USERSIG_UNPARSABLE, when: 'UserSig unparsable', message: 'usersig could not be parsed' },
  { code: TENCENT.SDKAPPID_MISMATCH, when: 'sdkappid ≠ the UserSig\'s', message: 'sdkappid in the URL does not match the usersig' },
  { code: TENCENT.IDENTIFIER_MISMATCH, when: 'identifier ≠ the UserSig\'s', message: 'identifier in the URL does not match the usersig' },
  { code: TENCENT.USERSIG_BAD, when: 'UserSig signature wrong', message: 'usersig verification failed' },
  { code: TENCENT.USERSIG_EXPIRED, when: 'UserSig expired', message: 'usersig expired' },
  { code: TENCENT.NOT_ADMIN, when: 'identifier not an admin of the app', message: 'identifier alice is not an app admin' },
  { code: TENCENT.RATE_LIMIT, when: 'per-app, per-API rate limit passed; or AUTH_FAILURE_LIMIT failed UserSigs of the app in this second (an uncached UserSig is then refused unchecked)', message: 'over the limit of 200 calls per second for /v4/openim/get_c2c_unread_msg_num' },
  { code: TENCENT.INTERNAL_TIMEOUT, when: 'Redis or the broker did not answer in time; retry', message: 'internal server timeout, retry (request 6f1c…)' },
  { code: TENCENT.INTERNAL, when: 'internal error; retry', message: 'internal server error, retry (request 6f1c…)' },
];

/** The common layer's URL parameters and the family's tag, on a Tencent controller. */
export function TencentApiDocs(service: string): ClassDecorator {
  return applyDecorators(
    ApiTags(`Tencent Cloud IM: ${service}`),
    ApiQuery({ name: 'sdkappid', type: String, required: true, description: 'the app\'s SDKAppID', example: '1400000000' }),
    ApiQuery({ name: 'identifier', type: String, required: true, description: 'an admin account of the app', example: 'administrator' }),
    ApiQuery({ name: 'usersig', type: String, required: true, description: 'UserSig v2 of identifier (HMAC-SHA256 with the app\'s secret key)' }),
    ApiQuery({ name: 'random', type: String, required: true, description: 'a 32-bit unsigned integer', example: '99999999' }),
    ApiQuery({ name: 'contenttype', required: true, enum: ['json'] }),
  );
}
