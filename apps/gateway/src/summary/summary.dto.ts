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
  @ApiProperty({ type: 'integer', minimum: 0, description: 'c2c + groups + channels over conversations whose receive option is AcceptAndNotify', example: 9 }) badge!: number;
}

export class BatchUnreadRequestDto {
  @ApiProperty({ type: [String], minItems: 1, maxItems: 100, description: 'account ids; a repeated one is answered once', example: ['alice', 'bob', 'nobody'] }) accounts!: string[];
}

export class AccountTotalsDto {
  @ApiProperty({ example: 'alice' }) account!: string;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'as get_c2c_unread_msg_num answers it', example: 7 }) c2c!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'over every group of the account, as the vendor counts', example: 6 }) groups!: number;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'unread QChat mentions (each channel at most 200)', example: 3 }) channels!: number;
  @ApiPropertyOptional({ enum: [true], description: 'present when the account is in more than 100 channels: `channels` counts the first 100 in (server id, channel id) order' }) channelsCapped?: true;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'the same over conversations whose receive option is AcceptAndNotify', example: 9 }) badge!: number;
}

/** POST /v1/apps/{appId}/unread (docs/api/summary.md). */
export class BatchUnreadDto {
  @ApiProperty({ example: '1400000000' }) appId!: string;
  @ApiProperty({ type: [AccountTotalsDto], description: 'registered accounts, in the order asked' }) accounts!: AccountTotalsDto[];
  @ApiProperty({ type: [String], description: 'accounts that are not registered, in the order asked', example: ['nobody'] }) notFound!: string[];
}
