import type { C2cMessageSent, C2cReadAck } from '@app/contracts';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';

// SHELL: to be implemented by the one-to-one work (issue 3).
export class C2cStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
  ) {}
  messageSent(_e: C2cMessageSent): Promise<unknown> {
    throw new Error('not implemented');
  }
  readAck(_e: C2cReadAck): Promise<unknown> {
    throw new Error('not implemented');
  }
  deleteAccount(_app: string, _account: string): Promise<unknown> {
    throw new Error('not implemented');
  }
}
