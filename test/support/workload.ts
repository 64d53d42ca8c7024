import type Redis from 'ioredis';
import type { UnreadEvent } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import { Keyspace, ProjectionStore } from '@app/store';
import { prng } from './random';
import { NETEASE_APP, TENCENT_APP, uniq } from './harness';


export type Ev = UnreadEvent & Record<string, unknown>;

/**
 * A mixed workload over every family (c2c, group, QChat channel, directory), with ids
 * unique to this call (`tag`), so several workloads share one Redis and one set of topics.
 * Events are in a valid causal order; a fraction is duplicated (as a producer retry would).
 */
export class Workload {
  readonly tag = uniq();
  readonly tencentApp = TENCENT_APP.sdkAppId;
  readonly neteaseApp = NETEASE_APP.appKey;
  readonly accounts: string[];
  readonly groups: string[];
  readonly serverId: string;
  readonly channels: string[];
  private readonly rnd: () => number;
  private time = Date.now() - 3_600_000;
  private readonly groupSeq = new Map<string, number>();
  private msg = 0;

  constructor(seed: number, accounts = 6) {
    this.rnd = prng(seed);
    this.accounts = Array.from({ length: accounts }, (_, i) => `u${i}-${this.tag}`);
    this.groups = [`@TGS#a${this.tag}`, `@TGS#b${this.tag}`];
    this.serverId = String(100_000 + Math.floor(this.rnd() * 1e6));
    this.channels = [String(2_000_000 + Math.floor(this.rnd() * 1e6)), String(3_000_000 + Math.floor(this.rnd() * 1e6))];
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  /** Each group's newest seq so far (where traffic that continues the groups starts after). */
  seqs(): Record<string, number> {
    return Object.fromEntries(this.groupSeq);
  }

  private tick(): number {
    this.time += 1 + Math.floor(this.rnd() * 1000);
    return this.time;
  }

  /** Registrations, groups with members, a QChat server with channels, members and a role. */
  setup(): Ev[] {
    const t = this.tencentApp;
    const n = this.neteaseApp;
    const out: Ev[] = [];
    for (const account of this.accounts) out.push({ type: 'account-registered', appId: t, account });
    for (const groupId of this.groups) {
      out.push({ type: 'group-created', appId: t, groupId, groupType: 'Work', name: groupId });
      for (const account of this.accounts) out.push({ type: 'group-member-joined', appId: t, groupId, account, seq: 0 });
      this.groupSeq.set(groupId, 0);
    }
    for (const channelId of this.channels) out.push({ type: 'qchat-channel-created', appId: n, serverId: this.serverId, channelId });
    for (const account of this.accounts) {
      out.push({ type: 'qchat-server-member-joined', appId: n, serverId: this.serverId, account });
    }
    for (const account of this.accounts.slice(0, 3)) {
      out.push({ type: 'qchat-role-member-added', appId: n, serverId: this.serverId, roleId: '5001', account });
    }
    return out;
  }

  /** `count` random traffic events over every family. */
  traffic(count: number): Ev[] {
    const t = this.tencentApp;
    const n = this.neteaseApp;
    const out: Ev[] = [];
    for (let i = 0; i < count; i++) {
      const r = this.rnd();
      const from = this.pick(this.accounts);
      const to = this.pick(this.accounts.filter((a) => a !== from));
      if (r < 0.3) {
        out.push({ type: 'message-sent', scope: 'c2c', appId: t, msgId: `m${++this.msg}-${this.tag}`, from, to, time: this.tick() });
      } else if (r < 0.4) {
        out.push({ type: 'read-ack', scope: 'c2c', appId: t, account: to, peer: from, readTime: this.time - Math.floor(this.rnd() * 3000) });
      } else if (r < 0.6) {
        const groupId = this.pick(this.groups);
        const seq = (this.groupSeq.get(groupId) ?? 0) + 1;
        this.groupSeq.set(groupId, seq);
        out.push({ type: 'message-sent', scope: 'group', appId: t, msgId: `g${seq}-${this.tag}`, groupId, from, seq, time: this.tick() });
      } else if (r < 0.68) {
        const groupId = this.pick(this.groups);
        const max = this.groupSeq.get(groupId) ?? 0;
        out.push({ type: 'read-ack', scope: 'group', appId: t, account: from, groupId, readSeq: Math.floor(this.rnd() * (max + 1)) });
      } else if (r < 0.7) {
        const groupId = this.pick(this.groups);
        const max = this.groupSeq.get(groupId) ?? 0;
        out.push({ type: 'group-unread-set', appId: t, groupId, account: from, readSeq: Math.max(0, max - Math.floor(this.rnd() * 3)) });
      } else if (r < 0.88) {
        const channelId = this.pick(this.channels);
        const time = this.tick();
        const msgIdServer = String(10_000_000 + ++this.msg);
        const all = this.rnd() < 0.2;
        out.push({
          type: 'channel-mention',
          appId: n,
          serverId: this.serverId,
          channelId,
          message: {
            msgIdServer,
            msgIdClient: `c${this.msg}-${this.tag}`,
            fromAccount: from,
            fromNick: from,
            fromClientType: 'REST',
            time,
            updateTime: time,
            status: 0,
            type: 0,
            body: `hello @${to} ${'é✓'.repeat(Math.floor(this.rnd() * 3))}`,
            attach: '',
            ext: '',
          },
          mentionAll: all,
          mentionAccids: all ? [] : [to],
          mentionRoleIds: this.rnd() < 0.3 ? ['5001'] : [],
        });
        if (this.rnd() < 0.2) {
          out.push({ type: 'channel-message-updated', appId: n, serverId: this.serverId, channelId, msgIdServer, status: 1, updateTime: time + 10 });
        }
      } else if (r < 0.95) {
        const channelId = this.pick(this.channels);
        out.push({ type: 'read-ack', scope: 'channel', appId: n, account: from, serverId: this.serverId, channelId, ackTime: this.time - Math.floor(this.rnd() * 3000) });
      } else {
        out.push({ type: 'message-sent', scope: 'channel', appId: n, msgIdServer: String(10_000_000 + ++this.msg), serverId: this.serverId, channelId: this.pick(this.channels), from, time: this.tick() });
      }
      // A producer retry: the same event again, right after.
      if (this.rnd() < 0.1) out.push(out[out.length - 1]!);
    }
    return out;
  }
}

/**
 * Recall, noUnread and receive-option events over a workload's accounts and groups (after its
 * setup and traffic; group seqs continue from `firstSeq`, by default where the workload's are):
 * c2c messages with and without noUnread, recalls of earlier messages and recalls that come
 * before their message, group messages (some noUnread) with recalls on both sides, and
 * receive options for peers and groups with colliding times.
 */
export function countsTraffic(w: Workload, seed: number, count: number, firstSeq: Record<string, number> = w.seqs()): Ev[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const t = w.tencentApp;
  const out: Ev[] = [];
  const sent: { msgId: string; from: string; to: string; time: number }[] = [];
  const seq = new Map(Object.entries(firstSeq));
  let time = Date.now() - 1_800_000;
  for (let i = 0; i < count; i++) {
    const r = rnd();
    const from = pick(w.accounts);
    const to = pick(w.accounts.filter((a) => a !== from));
    time += 1 + Math.floor(rnd() * 100);
    const m = { msgId: `r${i}-${w.tag}`, from, to, time };
    if (r < 0.25) {
      out.push({ type: 'message-sent', scope: 'c2c', appId: t, ...m, ...(rnd() < 0.2 ? { noUnread: true } : {}) });
      sent.push(m);
    } else if (r < 0.35 && sent.length > 0) {
      out.push({ type: 'message-recalled', scope: 'c2c', appId: t, ...pick(sent) });
    } else if (r < 0.4) {
      // the recall first, then its message
      out.push({ type: 'message-recalled', scope: 'c2c', appId: t, ...m }, { type: 'message-sent', scope: 'c2c', appId: t, ...m });
    } else if (r < 0.65) {
      const groupId = pick(w.groups);
      const s = (seq.get(groupId) ?? 0) + 1;
      seq.set(groupId, s);
      const recallFirst = rnd() < 0.1;
      if (recallFirst) out.push({ type: 'message-recalled', scope: 'group', appId: t, groupId, seq: s });
      out.push({ type: 'message-sent', scope: 'group', appId: t, msgId: `rg${s}-${w.tag}`, groupId, from, seq: s, time, ...(rnd() < 0.15 ? { noUnread: true } : {}) });
    } else if (r < 0.75) {
      const groupId = pick(w.groups);
      out.push({ type: 'message-recalled', scope: 'group', appId: t, groupId, seq: 1 + Math.floor(rnd() * (seq.get(groupId) ?? 1)) });
    } else if (r < 0.85) {
      const groupId = pick(w.groups);
      out.push({ type: 'read-ack', scope: 'group', appId: t, account: from, groupId, readSeq: Math.floor(rnd() * ((seq.get(groupId) ?? 0) + 1)) });
    } else {
      const option = pick(['AcceptAndNotify', 'AcceptNotNotify', 'Discard'] as const);
      const target = rnd() < 0.5 ? { scope: 'c2c' as const, peer: to } : { scope: 'group' as const, groupId: pick(w.groups) };
      out.push({ type: 'receive-option-set', appId: t, account: from, option, time: Math.floor(rnd() * 5), ...target });
    }
    if (rnd() < 0.1) out.push(out[out.length - 1]!);
  }
  return out;
}

/**
 * Applies events straight to Redis under `prefix`, one at a time in the order given, with the
 * same store code the projector uses: for differential checks of the whole state (Redis
 * Cluster against one Redis, test/redis-cluster.e2e-spec.ts). Being the code under test, it
 * is no oracle: the reliability tests compare with the model of test/support/count-model.ts.
 */
export async function applyReference(redis: Redis, prefix: string, events: readonly Ev[], mentionRetentionMs: number): Promise<void> {
  const store = new ProjectionStore(redis, new Keyspace(prefix), { mentionRetentionMs });
  for (const e of events) await store.apply(e);
}

/** `events` cut into consecutive batches of `size` (the last may be shorter). */
export function chunks<T>(events: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < events.length; i += size) out.push(events.slice(i, i + size));
  return out;
}

/** Partition key of an event, as the producer computes it (for tests that group events by partition). */
export const keyOf = (e: Ev): string => EventProducer.keyOf(e);
