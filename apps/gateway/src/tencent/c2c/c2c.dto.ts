import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_ID_LENGTH } from '@app/contracts';
import type { ErrorDoc } from '../../common/openapi';
import { TENCENT } from '../tencent.errors';
import { TencentOkDto } from '../tencent.dto';
import { C2C_ERRORS, MAX_PEERS } from './c2c.service';

/** get_c2c_unread_msg_num's body (validated by C2cService.unread). */
export class C2cUnreadRequestDto {
  @ApiProperty({ description: 'the account whose unread is asked', maxLength: MAX_ID_LENGTH, example: 'alice' }) To_Account!: string;
  @ApiPropertyOptional({
    description: `peers to count per peer (at most ${MAX_PEERS}); absent: the total`,
    type: [String],
    maxItems: MAX_PEERS,
    example: ['bob', 'carol'],
  })
  Peer_Account?: string[];
}

export class PeerUnreadDto {
  @ApiProperty({ example: 'bob' }) Peer_Account!: string;
  @ApiProperty({ type: 'integer', minimum: 0, example: 2 }) C2CUnreadMsgNum!: number;
}

export class PeerErrorDto {
  @ApiProperty({ example: 'nobody' }) Peer_Account!: string;
  @ApiProperty({ type: 'integer', description: '70107: not an existing account', example: TENCENT.ACCOUNT_NOT_FOUND }) ErrorCode!: number;
}

/** The total, or the per-peer counts (with ErrorList for peers that do not exist). */
export class C2cUnreadResponseDto extends TencentOkDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'without Peer_Account', example: 5 }) AllC2CUnreadMsgNum?: number;
  @ApiPropertyOptional({ type: [PeerUnreadDto], description: 'with Peer_Account: existing peers, in the order asked' }) C2CUnreadMsgNumList?: PeerUnreadDto[];
  @ApiPropertyOptional({ type: [PeerErrorDto], description: 'peers that are not existing accounts (only when there is one)' }) ErrorList?: PeerErrorDto[];
}

export const C2C_UNREAD_ERRORS: readonly ErrorDoc[] = [
  { code: C2C_ERRORS.JSON_PARSE, when: 'body empty, not JSON, or not a JSON object', message: 'the request body must be a JSON object' },
  { code: C2C_ERRORS.TO_ACCOUNT, when: 'To_Account missing, null, empty, or not a registered account', message: 'To_Account nobody does not exist' },
  { code: TENCENT.ACCOUNT_TYPE, when: 'To_Account not a string; Peer_Account not an array of strings', message: 'To_Account must be a string' },
  { code: C2C_ERRORS.TOO_MANY_ACCOUNTS, when: `Peer_Account holds more than ${MAX_PEERS} accounts`, message: `Peer_Account holds 11 accounts; at most ${MAX_PEERS} are allowed` },
];

/** admin_set_msg_read's body (validated by C2cService.setRead). */
export class AdminSetMsgReadRequestDto {
  @ApiProperty({ description: 'the account that read', maxLength: MAX_ID_LENGTH, example: 'alice' }) Report_Account!: string;
  @ApiProperty({ description: 'the peer whose messages are read', maxLength: MAX_ID_LENGTH, example: 'bob' }) Peer_Account!: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'Unix seconds, at most 5 s ahead of the server\'s clock; everything up to the end of that second is read (default: now)', example: 1700000000 })
  MsgReadTime?: number;
}

export const ADMIN_SET_MSG_READ_ERRORS: readonly ErrorDoc[] = [
  { code: C2C_ERRORS.JSON_PARSE, when: 'body empty, not JSON, or not a JSON object; MsgReadTime not a non-negative integer', message: 'MsgReadTime must be Unix seconds (a non-negative integer)' },
  { code: C2C_ERRORS.JSON_PARSE, when: 'MsgReadTime more than 5 s ahead of the server\'s clock', message: 'MsgReadTime is in the future (more than 5 s ahead of the server\'s clock)' },
  { code: C2C_ERRORS.TO_ACCOUNT, when: 'Report_Account missing, null, empty, or not a registered account', message: 'Report_Account nobody does not exist' },
  { code: C2C_ERRORS.FROM_ACCOUNT, when: 'Peer_Account missing, null, empty, or not a valid account id', message: 'Peer_Account is missing' },
  { code: TENCENT.ACCOUNT_TYPE, when: 'Report_Account or Peer_Account not a string', message: 'Peer_Account must be a string' },
];
