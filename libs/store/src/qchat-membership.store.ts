import type {
  QchatChannelCreated,
  QchatChannelDeleted,
  QchatRoleMemberAdded,
  QchatRoleMemberRemoved,
  QchatServerMemberJoined,
  QchatServerMemberLeft,
} from '@app/contracts';
import { Cluster } from 'ioredis';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis.factory';
import { READ_SCRIPTS } from './scripts';
import { callScript, command, type Write } from './write';

/** What the gateway needs to decide 404s and which role sets to read. */
export interface ChannelAccess {
  /** The server has members or channels. */
  serverKnown: boolean;
  /** qchat-channel-created seen (and not deleted). */
  channelKnown: boolean;
  /** The account is a member of the server. */
  member: boolean;
  /** Role ids granted to the account in the server (the everyone role is never granted by events). */
  roles: string[];
  /** The account is registered (account-registered, not deleted). */
  registered: boolean;
}

/** The QChat directory events of a batch. */
export type MembershipEvent =
  | QchatServerMemberJoined
  | QchatServerMemberLeft
  | QchatChannelCreated
  | QchatChannelDeleted
  | QchatRoleMemberAdded
  | QchatRoleMemberRemoved;

/**
 * QChat servers: who is a member, who holds which role, which channels exist. Per server
 * (`keys.server(app, serverId)`, ServerKeys): `members`, `roles(account)`, `channels`
 * (sets); per account, `keys.qchatAccount(app, account).servers`, the servers where it has keys (for
 * account-deleted). Directory events of a server are ordered, so their writes are plain
 * commands in event order.
 */
export class QchatMembershipStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
  ) {}

  /** The writes of one directory event, in order. */
  writes(e: MembershipEvent): Write[] {
    const s = this.keys.server(e.appId, e.serverId);
    switch (e.type) {
      case 'qchat-server-member-joined':
        return [command('SADD', [s.members], [e.account]), command('SADD', [this.keys.qchatAccount(e.appId, e.account).servers], [e.serverId])];
      case 'qchat-server-member-left':
        // leaving a server drops the member's roles there too
        return [
          command('SREM', [s.members], [e.account]),
          command('DEL', [s.roles(e.account)]),
          command('SREM', [this.keys.qchatAccount(e.appId, e.account).servers], [e.serverId]),
        ];
      case 'qchat-channel-created':
        return [command('SADD', [s.channels], [e.channelId])];
      case 'qchat-channel-deleted':
        // The channel stops answering (404). Its mention keys are left to expire with the
        // retention: mentions may still arrive after this event (another topic), and
        // deleting a channel's data would be one unbounded call.
        return [command('SREM', [s.channels], [e.channelId])];
      case 'qchat-role-member-added':
        return [command('SADD', [s.roles(e.account)], [e.roleId]), command('SADD', [this.keys.qchatAccount(e.appId, e.account).servers], [e.serverId])];
      case 'qchat-role-member-removed':
        return [command('SREM', [s.roles(e.account)], [e.roleId])];
    }
  }

  /** The servers where the account has keys (its index). */
  servers(app: string, account: string): Promise<string[]> {
    return this.redis.smembers(this.keys.qchatAccount(app, account).servers);
  }

  /** The writes that remove the account from `servers` (membership, roles) and drop its server index. */
  deleteWrites(app: string, account: string, servers: readonly string[]): Write[] {
    const writes: Write[] = [];
    for (const serverId of servers) {
      const s = this.keys.server(app, serverId);
      writes.push(command('SREM', [s.members], [account]), command('DEL', [s.roles(account)]));
    }
    writes.push(command('DEL', [this.keys.qchatAccount(app, account).servers]));
    return writes;
  }

  /**
   * Registration, membership, roles and existence for a query: one read-only call
   * (qchat-access.lua) on a single Redis; on a Redis Cluster, where the registration is on
   * the account's slot, that call on the server's slot and an HEXISTS beside it (one round
   * trip either way).
   */
  async access(app: string, serverId: string, channelId: string, account: string): Promise<ChannelAccess> {
    const s = this.keys.server(app, serverId);
    const marker = this.keys.account(app, account);
    const serverKeys = [s.members, s.roles(account), s.channels];
    const cluster = this.redis instanceof Cluster;
    const [reply, registered] = await Promise.all([
      callScript(this.redis, READ_SCRIPTS.qchatAccess, cluster ? serverKeys : [...serverKeys, marker.key], [account, channelId, marker.field]) as Promise<[number, number, number, number, ...string[]]>,
      cluster ? this.redis.hexists(marker.key, marker.field) : undefined,
    ]);
    const [member, channel, known, marked, ...roles] = reply;
    return { serverKnown: known === 1, channelKnown: channel === 1, member: member === 1, roles, registered: (registered ?? marked) === 1 };
  }

  /**
   * The channels of every server the account is a member of, with its roles there (for the
   * account summary): its server index, then each server's members, roles and channels, in
   * two round trips.
   */
  async memberChannels(app: string, account: string): Promise<{ serverId: string; channelId: string; roles: string[] }[]> {
    const servers = (await this.servers(app, account)).sort(compareIds);
    const rows = await Promise.all(
      servers.map(async (serverId) => {
        const s = this.keys.server(app, serverId);
        const [member, roles, channels] = await Promise.all([
          this.redis.sismember(s.members, account),
          this.redis.smembers(s.roles(account)),
          this.redis.smembers(s.channels),
        ]);
        return member === 1 ? channels.sort(compareIds).map((channelId) => ({ serverId, channelId, roles })) : [];
      }),
    );
    return rows.flat();
  }
}

/** Decimal ids in numeric order. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
