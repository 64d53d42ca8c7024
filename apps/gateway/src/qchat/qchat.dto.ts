import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import type { ErrorDoc, ErrorFamily } from '../common/openapi';
import { QCHAT } from './qchat.errors';
import { DEFAULT_LIMIT, MAX_ACCID_LENGTH, MAX_LIMIT } from './unread-mentions.dto';

/** A QChat failure (HTTP 200). */
export class QchatFailDto {
  @ApiProperty({ type: 'integer', description: 'the vendor code (docs/api/qchat.md)', example: 416 }) code!: number;
  @ApiProperty({ example: 'frequency control: too many calls' }) desc!: string;
}

export const QCHAT_FAMILY: ErrorFamily = {
  dto: QchatFailDto,
  body: (e: ErrorDoc) => ({ code: e.code, desc: e.message }),
};

/** The server API layer's answers (QchatAuthGuard, the exception filter). */
export const QCHAT_COMMON_ERRORS: readonly ErrorDoc[] = [
  { code: QCHAT.PARAM, when: 'a header missing or malformed; unknown AppKey; CurTime more than 5 minutes away; wrong CheckSum', message: 'checksum is not valid' },
  { code: QCHAT.REPEATED, when: 'Nonce already used by this app while its CurTime is acceptable', message: 'repeated request: Nonce already used' },
  { code: QCHAT.RATE_LIMIT, when: 'per-app, per-API rate limit passed (then blocked for QCHAT_RATE_BLOCK_MS); or AUTH_FAILURE_LIMIT failed CheckSums of the app in this second', message: 'frequency control: too many calls' },
  { code: QCHAT.BUSY, when: 'Redis did not answer in time; retry', message: 'server busy (request 6f1c…)' },
  { code: QCHAT.INTERNAL, when: 'internal error; retry', message: 'internal error (request 6f1c…)' },
];

/** The NetEase server API headers and the family's tag, on a QChat controller. */
export function QchatApiDocs(): ClassDecorator {
  return applyDecorators(
    ApiTags('NetEase QChat'),
    ApiHeader({ name: 'AppKey', required: true, description: 'the app\'s AppKey' }),
    ApiHeader({ name: 'Nonce', required: true, description: 'a random string, at most 128 characters, never reused' }),
    ApiHeader({ name: 'CurTime', required: true, description: 'Unix seconds' }),
    ApiHeader({ name: 'CheckSum', required: true, description: 'SHA1 hex of AppSecret + Nonce + CurTime' }),
  );
}

/** queryChannelUnReadMentionedMsgPage's form (validated by parseUnreadMentionsForm). */
export class UnreadMentionsFormDto {
  @ApiProperty({ maxLength: MAX_ACCID_LENGTH, example: 'alice' }) accid!: string;
  @ApiProperty({ description: 'unsigned 64-bit decimal', pattern: '^[0-9]{1,20}$', example: '87834762' }) serverId!: string;
  @ApiProperty({ description: 'unsigned 64-bit decimal', pattern: '^[0-9]{1,20}$', example: '25372323' }) channelId!: string;
  @ApiPropertyOptional({ description: 'a time in ms, or a nextTimetag of an earlier page; absent, empty or 0: now', pattern: '^[0-9]{0,19}$' }) timeTag?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }) limit?: number;
}

export class MentionedMessageDto {
  @ApiProperty({ type: 'integer', format: 'int64', description: 'exact decimal digits, even above 2^53', example: 16846554 }) msgIdServer!: number;
  @ApiProperty({ example: '100ada1c7bc04b6e9d59051d402203bf' }) msgIdClient!: string;
  @ApiProperty({ example: 'wmyytest1' }) fromAccount!: string;
  @ApiProperty({ example: 'wmyytest1' }) fromNick!: string;
  @ApiProperty({ example: 'REST' }) fromClientType!: string;
  @ApiProperty({ type: 'integer', example: 1669794854264 }) time!: number;
  @ApiProperty({ type: 'integer', example: 1669794854264 }) updateTime!: number;
  @ApiProperty({ type: 'integer', description: '0, or a custom status ≥ 10000', example: 0 }) status!: number;
  @ApiProperty({ type: 'integer', enum: [0, 1], example: 1 }) mentionedAll!: number;
  @ApiProperty({ type: 'integer', example: 0 }) type!: number;
  @ApiProperty({ example: 'hello @all' }) body!: string;
  @ApiProperty({ example: '' }) attach!: string;
  @ApiProperty({ example: '' }) ext!: string;
}

export class PageInfoDto {
  @ApiProperty({ type: 'integer', format: 'int64', description: 'the next page\'s timeTag (exact digits)', example: 1669794854263 }) nextTimetag!: number;
  @ApiProperty({ example: false }) hasMore!: boolean;
}

export class UnreadMentionsDataDto {
  @ApiProperty({ type: PageInfoDto }) pageInfo!: PageInfoDto;
  @ApiProperty({ type: [MentionedMessageDto], description: 'newest first' }) msgList!: MentionedMessageDto[];
}

export class UnreadMentionsPageDto {
  @ApiProperty({ type: 'integer', enum: [200], example: 200 }) code!: number;
  @ApiProperty({ type: UnreadMentionsDataDto }) data!: UnreadMentionsDataDto;
}

export const UNREAD_MENTIONS_ERRORS: readonly ErrorDoc[] = [
  { code: QCHAT.PARAM, when: 'Content-Type not form-urlencoded; a parameter repeated; serverId, channelId, timeTag or limit malformed; accid with a control character', message: 'limit must be an integer from 1 to 200' },
  { code: QCHAT.NOT_FOUND, when: 'a required parameter empty; account, server or channel not found; not a member of the server', message: 'account alice is not a member of server 87834762' },
  { code: QCHAT.TOO_LONG, when: `accid longer than ${MAX_ACCID_LENGTH} characters`, message: `accid is longer than ${MAX_ACCID_LENGTH} characters` },
];
