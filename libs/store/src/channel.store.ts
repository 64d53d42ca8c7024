import type {
  ChannelMention,
  ChannelMessageSent,
  ChannelMessageUpdated,
  ChannelReadAck,
  QchatChannelCreated,
  QchatChannelDeleted,
  QchatRoleMemberAdded,
  QchatRoleMemberRemoved,
  QchatServerMemberJoined,
  QchatServerMemberLeft,
} from '@app/contracts';
import type { Keyspace } from './keyspace';
import type { StoreOptions } from './projection.store';
import type { RedisClient } from './redis.factory';

// SHELL: to be implemented by the QChat work (issue 5).
export class ChannelStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
    private readonly options: StoreOptions,
  ) {}
  messageSent(_e: ChannelMessageSent): Promise<unknown> { throw new Error('not implemented'); }
  readAck(_e: ChannelReadAck): Promise<unknown> { throw new Error('not implemented'); }
  mention(_e: ChannelMention): Promise<unknown> { throw new Error('not implemented'); }
  messageUpdated(_e: ChannelMessageUpdated): Promise<unknown> { throw new Error('not implemented'); }
  serverMemberJoined(_e: QchatServerMemberJoined): Promise<unknown> { throw new Error('not implemented'); }
  serverMemberLeft(_e: QchatServerMemberLeft): Promise<unknown> { throw new Error('not implemented'); }
  channelCreated(_e: QchatChannelCreated): Promise<unknown> { throw new Error('not implemented'); }
  channelDeleted(_e: QchatChannelDeleted): Promise<unknown> { throw new Error('not implemented'); }
  roleMemberAdded(_e: QchatRoleMemberAdded): Promise<unknown> { throw new Error('not implemented'); }
  roleMemberRemoved(_e: QchatRoleMemberRemoved): Promise<unknown> { throw new Error('not implemented'); }
  deleteAccount(_app: string, _account: string): Promise<unknown> { throw new Error('not implemented'); }
}
