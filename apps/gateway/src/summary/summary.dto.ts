import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MAX_ID_LENGTH } from '@app/contracts';

export class ConversationUnreadDto {
  @ApiProperty({ maxLength: MAX_ID_LENGTH, example: 'bob' }) peer!: string;
  @ApiProperty({ type: 'integer', minimum: 1, example: 3 }) unread!: number;
}

export class C2cSectionDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'as get_c2c_unread_msg_num answers it', example: 7 }) total!: number;
  @ApiProperty({ type: [ConversationUnreadDto], description: 'peers with unread, most first (ties by peer id), at most limit' })
  conversations!: ConversationUnreadDto[];
}

export class GroupUnreadDto {
  @ApiProperty({ example: 'g-public' }) groupId!: string;
  @ApiProperty({ type: 'integer', minimum: 1, example: 5 }) unread!: number;
}

export class GroupSectionDto {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'over every group of the account', example: 6 }) total!: number;
  @ApiProperty({ type: [GroupUnreadDto], description: 'groups with unread, most first (ties by group id), at most limit' }) items!: GroupUnreadDto[];
}

export class ChannelUnreadDto {
  @ApiProperty({ description: 'unsigned 64-bit decimal', example: '5' }) serverId!: string;
  @ApiProperty({ description: 'unsigned 64-bit decimal', example: '50' }) channelId!: string;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 200, example: 2 }) unread!: number;
  @ApiProperty({ description: 'true: more than 200 unread mentions (the count reads one page)', example: false }) more!: boolean;
}

export class ChannelSectionDto {
  @ApiProperty({ type: 'integer', minimum: 0, example: 3 }) total!: number;
  @ApiProperty({ type: [ChannelUnreadDto], description: 'channels with unread mentions, most first, at most limit' }) items!: ChannelUnreadDto[];
  @ApiPropertyOptional({ enum: [true], description: 'present when the account is in more channels than one summary counts (100, in server and channel id order)' }) capped?: true;
}

/** GET /v1/apps/{appId}/accounts/{account}/unread (docs/api/summary.md). */
export class AccountSummaryDto {
  @ApiProperty({ example: 'go9dnk49bkd9jd9vmel1kglw0803mgq3' }) appId!: string;
  @ApiProperty({ example: 'alice' }) account!: string;
  @ApiProperty({ type: C2cSectionDto }) c2c!: C2cSectionDto;
  @ApiProperty({ type: GroupSectionDto }) groups!: GroupSectionDto;
  @ApiProperty({ type: ChannelSectionDto }) channels!: ChannelSectionDto;
}
