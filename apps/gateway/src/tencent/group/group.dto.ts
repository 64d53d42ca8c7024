import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { GROUP_TYPES, MAX_ID_LENGTH, RECEIVE_OPTIONS } from '@app/contracts';
import type { ErrorDoc } from '../../common/openapi';
import { TENCENT } from '../tencent.errors';
import { TencentOkDto } from '../tencent.dto';
import { GROUP_ERRORS, MAX_GROUP_ID_BYTES, MAX_LIMIT } from './group.service';

const GROUP_ID = { description: `a group id (at most ${MAX_GROUP_ID_BYTES} bytes of UTF-8, no control characters)`, example: '@TGS#2J4SZEAEL' };

/** set_unread_msg_num's body (validated by GroupService.setUnread). */
export class SetUnreadMsgNumRequestDto {
  @ApiProperty(GROUP_ID) GroupId!: string;
  @ApiProperty({ maxLength: MAX_ID_LENGTH, example: 'alice' }) Member_Account!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'the unread count to set (clamped to the group\'s message count)', example: 3 }) UnreadMsgNum!: number;
}

export const SET_UNREAD_ERRORS: readonly ErrorDoc[] = [
  { code: TENCENT.JSON_PARSE, when: 'the body is not a JSON object', message: 'the request body must be a JSON object' },
  { code: GROUP_ERRORS.INVALID_PARAM, when: 'GroupId, Member_Account or UnreadMsgNum absent or invalid', message: 'UnreadMsgNum must be a non-negative integer' },
  { code: GROUP_ERRORS.INVALID_GROUP_ID, when: 'GroupId malformed', message: `GroupId is invalid: a group id is a non-empty string of at most ${MAX_GROUP_ID_BYTES} bytes without control characters` },
  { code: TENCENT.ACCOUNT_TYPE, when: 'Member_Account not a string', message: 'Member_Account must be a string' },
  { code: GROUP_ERRORS.GROUP_NOT_FOUND, when: 'the group does not exist or was dismissed', message: 'group g1 does not exist or was dismissed' },
  { code: GROUP_ERRORS.NO_PERMISSION, when: 'Member_Account is not a member of the group', message: 'alice is not a member of group g1' },
];

export class ResponseFilterDto {
  @ApiPropertyOptional({ type: [String], description: 'base fields to return: Type, Name (others are not kept)', example: ['Type', 'Name'] }) GroupBaseInfoFilter?: string[];
  @ApiPropertyOptional({ type: [String], description: 'self fields to return: MsgFlag, UnreadMsgNum', example: ['MsgFlag', 'UnreadMsgNum'] }) SelfInfoFilter?: string[];
}

/** get_joined_group_list's body (validated by GroupService.joinedGroups). */
export class JoinedGroupListRequestDto {
  @ApiProperty({ maxLength: MAX_ID_LENGTH, example: 'alice' }) Member_Account!: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_LIMIT, description: 'page size (0 or absent: all)', example: 10 }) Limit?: number;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, example: 0 }) Offset?: number;
  @ApiPropertyOptional({ enum: GROUP_TYPES, description: 'only groups of this type (old and new names match each other)' }) GroupType?: string;
  @ApiPropertyOptional({ type: 'integer', enum: [0, 1], description: '1: include AVChatRoom groups' }) WithHugeGroups?: number;
  @ApiPropertyOptional({ type: 'integer', enum: [0, 1], description: 'accepted; every group counts as active' }) WithNoActiveGroups?: number;
  @ApiPropertyOptional({ type: ResponseFilterDto }) ResponseFilter?: ResponseFilterDto;
}

export class SelfInfoDto {
  @ApiPropertyOptional({ enum: RECEIVE_OPTIONS, description: 'with SelfInfoFilter MsgFlag: the receive option (AcceptAndNotify when never set)', example: 'AcceptAndNotify' }) MsgFlag?: string;
  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'with SelfInfoFilter UnreadMsgNum', example: 4 }) UnreadMsgNum?: number;
}

export class JoinedGroupDto {
  @ApiProperty({ example: '@TGS#2J4SZEAEL' }) GroupId!: string;
  @ApiPropertyOptional({ enum: GROUP_TYPES, description: 'with GroupBaseInfoFilter Type' }) Type?: string;
  @ApiPropertyOptional({ description: 'with GroupBaseInfoFilter Name', example: 'team' }) Name?: string;
  @ApiPropertyOptional({ type: SelfInfoDto, description: 'with SelfInfoFilter MsgFlag or UnreadMsgNum' }) SelfInfo?: SelfInfoDto;
}

export class JoinedGroupListResponseDto extends TencentOkDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'groups matching, before paging', example: 1 }) TotalCount!: number;
  @ApiProperty({ type: [JoinedGroupDto] }) GroupIdList!: JoinedGroupDto[];
}

export const JOINED_GROUP_LIST_ERRORS: readonly ErrorDoc[] = [
  { code: TENCENT.JSON_PARSE, when: 'the body is not a JSON object', message: 'the request body must be a JSON object' },
  { code: GROUP_ERRORS.INVALID_PARAM, when: 'Member_Account absent or empty; Limit, Offset, GroupType, WithHugeGroups, WithNoActiveGroups or ResponseFilter invalid', message: `Limit must be an integer from 0 to ${MAX_LIMIT}` },
  { code: TENCENT.ACCOUNT_TYPE, when: 'Member_Account not a string', message: 'Member_Account must be a string' },
  { code: TENCENT.ACCOUNT_NOT_FOUND, when: 'Member_Account is not an existing account', message: 'Member_Account nobody does not exist' },
];
