import { Equals, IsInt, Min } from 'class-validator';
import { IsCount, IsId, IsUnixMillis } from './validators';

/**
 * The change feed's record (topic `im.unread-changed`, docs/events.md "The change feed"):
 * an account's totals after a batch of events about it was applied. Key `<appId>:<account>`.
 */
export class UnreadChanged {
  @Equals('unread-changed') type!: 'unread-changed';
  @IsId() appId!: string;
  @IsId() account!: string;
  /** Unread one-to-one messages (as the account summary counts them). */
  @IsCount() c2c!: number;
  /** Unread group messages. */
  @IsCount() groups!: number;
  /** Unread QChat mentions (each channel counted up to 200). */
  @IsCount() channels!: number;
  /** What a push notification shows (for now c2c + groups + channels). */
  @IsCount() badge!: number;
  /** Grows with every record of the account: a consumer keeps the highest and drops a lower one. */
  @IsInt() @Min(1) version!: number;
  /** When the totals were read (Unix ms). */
  @IsUnixMillis() time!: number;
}

/** The key of an account's records on the change feed. */
export function unreadChangedKey(appId: string, account: string): string {
  return `${appId}:${account}`;
}
