import type { GroupMemberRecord, GroupMemberView, MentionMatch, ProjectionStore, ReceiveOptions } from '@app/store';
import { DEFAULT_RECEIVE_OPTION, GROUP_TYPES_WITHOUT_UNREAD, badgeOf, readAccountsUnread } from '@app/store';

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
  else if (q.group !== undefined) {
    const [detail, options] = await Promise.all([store.group.memberDetail(q.app, q.group, q.account), store.receiveOptions.read(q.app, q.account)]);
    explainGroup(detail, options.groups.get(q.group) ?? DEFAULT_RECEIVE_OPTION, out);
  }
  else if (q.channel) await explainChannel(store, q, q.channel.serverId, q.channel.channelId, out);
  else await overview(store, q, out);
  return `${out.join('\n')}\n`;
}

async function overview(store: ProjectionStore, q: ExplainQuery, out: string[]): Promise<void> {
  const [c2c, { groups }, channels, [unread]] = await Promise.all([
    store.c2c.describe(q.app, q.account),
    store.group.joinedGroups(q.app, q.account),
    store.channel.channelsOf(q.app, q.account),
    readAccountsUnread(store, q.app, [q.account]),
  ]);
  const options = unread!.options;
  const muted = (o: string | undefined) => (o !== undefined && o !== DEFAULT_RECEIVE_OPTION ? `; receive option ${o} (not in the badge)` : '');
  out.push(`one-to-one: ${c2c.total} unread`);
  for (const p of c2c.peers) out.push(`  from ${p.peer}: ${p.unread} unread, ${p.readTime === undefined ? 'never read' : `read up to ${when(p.readTime)}`}${muted(options.c2c.get(p.peer))}`);
  out.push(`groups: ${groups.length} joined, ${groups.reduce((s, g) => s + g.unread, 0)} unread`);
  for (const g of groups) {
    const skipped = g.type && GROUP_TYPES_WITHOUT_UNREAD.includes(g.type) ? 0 : Math.max(0, g.maxSeq - g.readSeq) - g.unread;
    out.push(`  ${g.groupId}: ${g.unread} unread (max seq ${g.maxSeq}, read seq ${g.readSeq}${skipped > 0 ? `, ${skipped} recalled or not counted` : ''})${muted(options.groups.get(g.groupId))}`);
  }
  out.push(`qchat channels with keys of ${q.account}: ${channels.length}`);
  let mentions = 0;
  for (const [serverId, channelId] of channels) {
    const m = await store.channel.explainMentions(q.app, serverId, channelId, q.account, 200, q.now);
    mentions += m.messages.length;
    out.push(`  ${serverId}/${channelId}: ${m.messages.length}${m.more ? '+' : ''} unread mentions`);
  }
  out.push(`receive options: ${describeOptions(options)}`);
  out.push(`badge: ${badgeOf(unread!, mentions)} (everything above over conversations whose receive option is AcceptAndNotify)`);
}

function describeOptions(o: ReceiveOptions): string {
  const parts = [
    ...[...o.c2c].sort(([a], [b]) => (a < b ? -1 : 1)).map(([peer, v]) => `peer ${peer} ${v}`),
    ...[...o.groups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([g, v]) => `group ${g} ${v}`),
  ];
  return parts.length ? parts.join(', ') : 'none set (every conversation AcceptAndNotify)';
}

async function explainPeer(store: ProjectionStore, q: ExplainQuery, peer: string, out: string[]): Promise<void> {
  const [{ total, peers }, recalled, options] = await Promise.all([
    store.c2c.describe(q.app, q.account, peer),
    store.c2c.recalled(q.app, q.account, peer),
    store.receiveOptions.read(q.app, q.account),
  ]);
  const p = peers[0]!;
  out.push(`one-to-one from ${peer}: ${p.unread} unread (of ${total} in total)`);
  out.push(`  receive option: ${options.c2c.get(peer) ?? `${DEFAULT_RECEIVE_OPTION} (never set)`}`);
  out.push(
    p.readTime === undefined
      ? `  read time: never (every message from ${peer} to ${q.account} counts)`
      : `  read time: ${when(p.readTime)}: messages from ${peer} at or before it are read`,
  );
  const messages = p.messages ?? [];
  out.push(`  unread messages, oldest first${messages.length < p.unread ? ` (the first ${messages.length})` : ''}:${messages.length ? '' : ' none'}`);
  for (const m of messages) out.push(`    ${when(m.time)} ${m.msgId}`);
  if (recalled.length > 0) {
    out.push(`  recalled after the read time (never count, also if the message comes again)${recalled.length === 50 ? ' (the first 50)' : ''}:`);
    for (const m of recalled) out.push(`    ${when(m.time)} ${m.msgId}`);
  }
}

function explainGroup({ view, record, uncounted, horizon }: { view: GroupMemberView; record: GroupMemberRecord; uncounted: number[]; horizon: number }, option: string, out: string[]): void {
  const about = view.type ? ` (${view.type}${view.name ? `, "${view.name}"` : ''})` : '';
  out.push(`group ${view.groupId}${about}: ${view.unread} unread`);
  out.push(`  receive option (MsgFlag): ${option}${option === DEFAULT_RECEIVE_OPTION ? '' : ' (counted by the vendor APIs, not in the badge)'}`);
  if (!view.exists) out.push('  the group does not exist (never created, or dismissed): the APIs do not list it');
  out.push(`  member: ${record.member ? 'yes' : 'no (never joined, or left: the APIs do not list the group for it)'}`);
  out.push(`  max seq ${view.maxSeq} (the highest message seq projected)`);
  const fence = record.fence;
  const floor = (name: string, seq: number) =>
    fence !== undefined && seq <= fence ? `${name} ${seq} (at or below the override's max seq ${fence}: superseded)` : `${name} ${seq}`;
  out.push(`  read seq ${view.readSeq} = max of: read acks ${record.ackSeq}, ${floor('join seq', record.joinSeq)}, ${floor('own messages up to seq', record.ownSeq)}`);
  if (fence !== undefined) out.push(`  admin override (group-unread-set) replaced the read acks at max seq ${fence}`);
  if (view.type && GROUP_TYPES_WITHOUT_UNREAD.includes(view.type)) out.push(`  ${view.type} groups keep no unread count: 0`);
  else {
    if (view.readSeq < view.maxSeq - horizon) {
      out.push(`  the read seq is more than ${horizon} below the max seq (GROUP_UNCOUNTED_HORIZON): recalled and noUnread messages up to seq ${view.maxSeq - horizon} are not kept and count as unread`);
    }
    const skipped = Math.max(0, view.maxSeq - view.readSeq) - view.unread;
    if (skipped === 0) out.push(`  unread = max(0, ${view.maxSeq} - ${view.readSeq}) = ${view.unread}`);
    else {
      out.push(`  seqs after the read seq that do not count (recalled or sent with noUnread)${uncounted.length < skipped ? ` (the first ${uncounted.length})` : ''}: ${uncounted.join(', ')}`);
      out.push(`  unread = max(0, ${view.maxSeq} - ${view.readSeq}) - ${skipped} = ${view.unread}`);
    }
  }
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
