import type {
  GroupCreated,
  GroupDismissed,
  GroupMemberJoined,
  GroupMemberLeft,
  GroupMessageSent,
  GroupReadAck,
  GroupUnreadSet,
} from '@app/contracts';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';

// SHELL: to be implemented by the group work (issue 4).
export class GroupStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
  ) {}
  messageSent(_e: GroupMessageSent): Promise<unknown> { throw new Error('not implemented'); }
  readAck(_e: GroupReadAck): Promise<unknown> { throw new Error('not implemented'); }
  unreadSet(_e: GroupUnreadSet): Promise<unknown> { throw new Error('not implemented'); }
  created(_e: GroupCreated): Promise<unknown> { throw new Error('not implemented'); }
  dismissed(_e: GroupDismissed): Promise<unknown> { throw new Error('not implemented'); }
  memberJoined(_e: GroupMemberJoined): Promise<unknown> { throw new Error('not implemented'); }
  memberLeft(_e: GroupMemberLeft): Promise<unknown> { throw new Error('not implemented'); }
  deleteAccount(_app: string, _account: string): Promise<unknown> { throw new Error('not implemented'); }
}
