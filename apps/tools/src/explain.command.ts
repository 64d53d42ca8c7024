import type { GroupMemberRecord, GroupMemberView, MentionMatch, ProjectionStore } from '@app/store';
import { GROUP_TYPES_WITHOUT_UNREAD } from '@app/store';

export interface ExplainQuery {
  app: string;
  account: string;
  peer?: string;
  group?: string;
  channel?: { serverId: string; channelId: string };
  /** Unix ms the QChat answers are computed at (default: now). */
  now?: number;
}

const when = (ms: number) => `${new Date(ms).toISOString()} (${ms})`;
const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/**
 * `unread explain`: why the counts are what they are, from the projections the gateway
 * reads (every read goes through the store's read APIs, in the active generation).
 * Without a flag, an overview of every family; with one, the detail of one conversation.
 */
export async function explain(store: ProjectionStore, q: ExplainQuery): Promise<string> {
  const out: string[] = [];
  const exists = await store.directory.exists(q.app, q.account);
  out.push(`${q.account} (app ${q.app}): ${exists ? 'registered' : 'not registered (the APIs answer that the account does not exist)'}`);
  if (q.peer !== undefined) await explainPeer(store, q, q.peer, out);
  else if (q.group !== undefined) explainGroup(await store.group.memberDetail(q.app, q.group, q.account), out);
  else if (q.channel) await explainChannel(store, q, q.channel.serverId, q.channel.channelId, out);
  else await overview(store, q, out);
  return `${out.join('\n')}\n`;
}

async function overview(store: ProjectionStore, q: ExplainQuery, out: string[]): Promise<void> {
  const [c2c, { groups }, channels] = await Promise.all([
    store.c2c.describe(q.app, q.account),
    store.group.joinedGroups(q.app, q.account),
    store.channel.channelsOf(q.app, q.account),
  ]);
  out.push(`one-to-one: ${c2c.total} unread`);
  for (const p of c2c.peers) out.push(`  from ${p.peer}: ${p.unread} unread, ${p.readTime === undefined ? 'never read' : `read up to ${when(p.readTime)}`}`);
  out.push(`groups: ${groups.length} joined, ${groups.reduce((s, g) => s + g.unread, 0)} unread`);
  for (const g of groups) out.push(`  ${g.groupId}: ${g.unread} unread (max seq ${g.maxSeq}, read seq ${g.readSeq})`);
  out.push(`qchat channels with keys of ${q.account}: ${channels.length}`);
  for (const [serverId, channelId] of channels) {
    const m = await store.channel.explainMentions(q.app, serverId, channelId, q.account, 200, q.now);
    out.push(`  ${serverId}/${channelId}: ${m.messages.length}${m.more ? '+' : ''} unread mentions`);
  }
}

async function explainPeer(store: ProjectionStore, q: ExplainQuery, peer: string, out: string[]): Promise<void> {
  const { total, peers } = await store.c2c.describe(q.app, q.account, peer);
  const p = peers[0]!;
  out.push(`one-to-one from ${peer}: ${p.unread} unread (of ${total} in total)`);
  out.push(
    p.readTime === undefined
      ? `  read time: never (every message from ${peer} to ${q.account} counts)`
      : `  read time: ${when(p.readTime)}: messages from ${peer} at or before it are read`,
  );
  const messages = p.messages ?? [];
  out.push(`  unread messages, oldest first${messages.length < p.unread ? ` (the first ${messages.length})` : ''}:${messages.length ? '' : ' none'}`);
  for (const m of messages) out.push(`    ${when(m.time)} ${m.msgId}`);
}

function explainGroup({ view, record }: { view: GroupMemberView; record: GroupMemberRecord }, out: string[]): void {
  const about = view.type ? ` (${view.type}${view.name ? `, "${view.name}"` : ''})` : '';
  out.push(`group ${view.groupId}${about}: ${view.unread} unread`);
  if (!view.exists) out.push('  the group does not exist (never created, or dismissed): the APIs do not list it');
  out.push(`  member: ${record.member ? 'yes' : 'no (never joined, or left: the APIs do not list the group for it)'}`);
  out.push(`  max seq ${view.maxSeq} (the highest message seq projected)`);
  const fence = record.fence;
  const floor = (name: string, seq: number) =>
    fence !== undefined && seq <= fence ? `${name} ${seq} (at or below the override's max seq ${fence}: superseded)` : `${name} ${seq}`;
  out.push(`  read seq ${view.readSeq} = max of: read acks ${record.ackSeq}, ${floor('join seq', record.joinSeq)}, ${floor('own messages up to seq', record.ownSeq)}`);
  if (fence !== undefined) out.push(`  admin override (group-unread-set) replaced the read acks at max seq ${fence}`);
  if (view.type && GROUP_TYPES_WITHOUT_UNREAD.includes(view.type)) out.push(`  ${view.type} groups keep no unread count: 0`);
  else out.push(`  unread = max(0, ${view.maxSeq} - ${view.readSeq}) = ${view.unread}`);
}

function describeMatch(m: MentionMatch, account: string): string {
  if (m.kind === 'all') return '@all';
  if (m.kind === 'account') return `@${account}`;
  return `role ${m.roleId}`;
}

async function explainChannel(store: ProjectionStore, q: ExplainQuery, serverId: string, channelId: string, out: string[]): Promise<void> {
  const e = await store.channel.explainMentions(q.app, serverId, channelId, q.account, 200, q.now);
  out.push(`qchat channel ${serverId}/${channelId}: ${e.messages.length}${e.more ? '+' : ''} unread mentions`);
  out.push(`  server known: ${yesNo(e.access.serverKnown)}; channel exists: ${yesNo(e.access.channelKnown)}; ${q.account} is a member: ${yesNo(e.access.member)}`);
  out.push(`  roles of ${q.account} in the server: ${e.access.roles.length ? [...e.access.roles].sort().join(', ') : 'none'} (mentions of other roles do not count)`);
  out.push(`  ack time: ${e.ackTime === undefined ? 'none (every mention within the retention counts)' : `${when(e.ackTime)}: mentions at or before it are read`}`);
  out.push(`  unread mentions, newest first${e.more ? ' (the first 200)' : ''}:${e.messages.length ? '' : ' none'}`);
  for (const { message: m, matches } of e.messages) {
    out.push(`    ${m.msgIdServer} ${when(m.time)} from ${m.fromAccount}: ${matches.map((x) => describeMatch(x, q.account)).join(', ')}`);
  }
}
