/**
 * What the failover tests observe: a monotone stream whose counts only grow (so any answer
 * above the model's final value is wrong, whenever it was given), a gateway poller that
 * classifies every answer it gets during a fault, and a poll until the state settles.
 */
import type Redis from 'ioredis';
import { CountModel, expectModelCounts, modelCounts } from './count-model';
import { NETEASE_APP, TENCENT_APP, uniq, type Harness } from './harness';
import { drainedGroup } from './projector-process';
import { qchatPost } from './qchat-client';
import type { Snapshot } from './snapshot';
import { tencentPost } from './tencent';
import { prng } from './random';
import { waitFor } from './wait';
import type { Ev, Workload } from './workload';

const C2C = 'openim/get_c2c_unread_msg_num';
const GROUPS = 'group_open_http_svc/get_joined_group_list';
const MENTIONS = 'queryChannelUnReadMentionedMsgPage.action';

/**
 * Events whose counts never go down: senders write to watchers (one-to-one, in a group,
 * @-mentions in a QChat channel) and watchers never read, leave or recall. At any time
 * the true count of a watcher is at most its final value in the model. The counts are
 * CountModel's over every event generated (setup and traffic, duplicates included).
 */
export class WatchedStream {
  readonly tag = uniq();
  readonly watchers: string[];
  readonly senders: string[];
  readonly groupId: string;
  readonly serverId: string;
  readonly channelId: string;
  private readonly rnd: () => number;
  private time = Date.now() - 1_800_000;
  private seq = 0;
  private msg = 0;
  private readonly model = new CountModel();

  constructor(seed: number, watchers = 3) {
    this.rnd = prng(seed);
    this.watchers = Array.from({ length: watchers }, (_, i) => `w${i}-${this.tag}`);
    this.senders = Array.from({ length: 3 }, (_, i) => `s${i}-${this.tag}`);
    this.groupId = `@TGS#w${this.tag}`;
    this.serverId = String(500_000 + Math.floor(this.rnd() * 1e6));
    this.channelId = String(7_000_000 + Math.floor(this.rnd() * 1e6));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)]!;
  }

  setup(): Ev[] {
    const t = TENCENT_APP.sdkAppId;
    const n = NETEASE_APP.appKey;
    const everyone = [...this.watchers, ...this.senders];
    return this.told([
      ...everyone.map((account): Ev => ({ type: 'account-registered', appId: t, account })),
      ...everyone.map((account): Ev => ({ type: 'account-registered', appId: n, account })),
      { type: 'group-created', appId: t, groupId: this.groupId, groupType: 'Work', name: this.groupId },
      ...everyone.map((account): Ev => ({ type: 'group-member-joined', appId: t, groupId: this.groupId, account, seq: 0 })),
      { type: 'qchat-channel-created', appId: n, serverId: this.serverId, channelId: this.channelId },
      ...everyone.map((account): Ev => ({ type: 'qchat-server-member-joined', appId: n, serverId: this.serverId, account })),
    ]);
  }

  /** Tells the model of `events` and returns them. */
  private told(events: Ev[]): Ev[] {
    this.model.apply(events);
    return events;
  }

  private mentionsOf(watcher: string): string[] {
    return this.model.mentions(NETEASE_APP.appKey, this.serverId, this.channelId, watcher);
  }

  /** `count` events (plus 10 % producer retries); mentions stay under the query's page of 200 per watcher. */
  traffic(count: number): Ev[] {
    const out: Ev[] = [];
    let toldUpTo = 0;
    for (let i = 0; i < count; i++) {
      const r = this.rnd();
      const from = this.pick(this.senders);
      const to = this.pick(this.watchers);
      this.time += 1 + Math.floor(this.rnd() * 200);
      if (r < 0.45) {
        const msgId = `wm${++this.msg}-${this.tag}`;
        out.push({ type: 'message-sent', scope: 'c2c', appId: TENCENT_APP.sdkAppId, msgId, from, to, time: this.time });
      } else if (r < 0.8 || this.mentionsOf(to).length >= 200) {
        const seq = ++this.seq;
        out.push({ type: 'message-sent', scope: 'group', appId: TENCENT_APP.sdkAppId, msgId: `wg${seq}-${this.tag}`, groupId: this.groupId, from, seq, time: this.time });
      } else {
        const msgIdServer = String(90_000_000 + ++this.msg);
        out.push({
          type: 'channel-mention',
          appId: NETEASE_APP.appKey,
          serverId: this.serverId,
          channelId: this.channelId,
          message: {
            msgIdServer,
            msgIdClient: `wc${this.msg}-${this.tag}`,
            fromAccount: from,
            fromNick: from,
            fromClientType: 'REST',
            time: this.time,
            updateTime: this.time,
            status: 0,
            type: 0,
            body: `@${to}`,
            attach: '',
            ext: '',
          },
          mentionAll: false,
          mentionAccids: [to],
          mentionRoleIds: [],
        });
      }
      if (this.rnd() < 0.1) out.push(out[out.length - 1]!);
      // the model hears each event at once: whether the next mention fits in the page depends on it
      this.told(out.slice(toldUpTo));
      toldUpTo = out.length;
    }
    return out;
  }

  /** The model's counts after every event generated so far. */
  expected(): Expected {
    const t = TENCENT_APP.sdkAppId;
    const values: Record<string, number> = {};
    const mentionIds = new Set<string>();
    for (const w of this.watchers) {
      const mentions = this.mentionsOf(w);
      values[`c2c ${w}`] = this.model.c2cTotal(t, w);
      values[`group ${w}`] = this.model.group(t, this.groupId, w) ?? 0;
      values[`mentions ${w}`] = mentions.length;
      for (const id of mentions) mentionIds.add(id);
    }
    return { values, mentionIds };
  }
}

export interface Expected {
  /** "c2c <watcher>" / "group <watcher>" / "mentions <watcher>" → count. */
  values: Record<string, number>;
  mentionIds: Set<string>;
}

/** One answer of the gateway: a count, a documented error (Tencent 70169/91000, QChat 503/500), or anything else. */
export type Answer =
  | { probe: string; at: number; kind: 'value'; value: number; ids?: string[] }
  | { probe: string; at: number; kind: 'documented-error'; code: number }
  | { probe: string; at: number; kind: 'undocumented'; detail: string };

function classifyTencent(probe: string, r: { status: number; body: Record<string, unknown> }, value: (b: Record<string, unknown>) => number | undefined): Answer {
  const at = Date.now();
  const b = r.body;
  if (r.status === 200 && b.ActionStatus === 'OK' && b.ErrorCode === 0) {
    const v = value(b);
    if (typeof v === 'number') return { probe, at, kind: 'value', value: v };
  }
  if (r.status === 200 && b.ActionStatus === 'FAIL' && (b.ErrorCode === 70169 || b.ErrorCode === 91000) && typeof b.ErrorInfo === 'string') {
    return { probe, at, kind: 'documented-error', code: b.ErrorCode };
  }
  return { probe, at, kind: 'undocumented', detail: `HTTP ${r.status} ${JSON.stringify(b)}` };
}

/**
 * Polls the gateway for every watcher's three counts, one round after another, until
 * stopped, and keeps every answer.
 */
export class GatewayWatch {
  readonly answers: Answer[] = [];
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly baseUrl: string,
    private readonly stream: WatchedStream,
    private readonly roundGapMs = 50,
  ) {}

  /** One answer per probe, now. */
  async round(): Promise<Answer[]> {
    const s = this.stream;
    const out: Answer[] = [];
    for (const w of s.watchers) {
      out.push(
        await this.probe(`c2c ${w}`, async (probe) =>
          classifyTencent(probe, await tencentPost(this.baseUrl, C2C, { To_Account: w }), (b) => b.AllC2CUnreadMsgNum as number | undefined),
        ),
        await this.probe(`group ${w}`, async (probe) =>
          classifyTencent(probe, await tencentPost(this.baseUrl, GROUPS, { Member_Account: w, ResponseFilter: { SelfInfoFilter: ['UnreadMsgNum'] } }), (b) => {
            const list = (b.GroupIdList ?? []) as { GroupId: string; SelfInfo?: { UnreadMsgNum?: number } }[];
            return list.find((g) => g.GroupId === s.groupId)?.SelfInfo?.UnreadMsgNum;
          }),
        ),
        await this.probe(`mentions ${w}`, async (probe) => {
          const r = await qchatPost(this.baseUrl, MENTIONS, { accid: w, serverId: s.serverId, channelId: s.channelId, limit: '200' });
          const at = Date.now();
          const b = r.body as { code?: unknown; desc?: unknown; data?: { msgList?: { msgIdServer: number | string }[] } };
          if (r.status === 200 && b.code === 200 && Array.isArray(b.data?.msgList)) {
            const ids = b.data.msgList.map((m) => String(m.msgIdServer));
            return { probe, at, kind: 'value', value: ids.length, ids };
          }
          if (r.status === 200 && (b.code === 500 || b.code === 503) && typeof b.desc === 'string') return { probe, at, kind: 'documented-error', code: b.code };
          return { probe, at, kind: 'undocumented', detail: `HTTP ${r.status} ${JSON.stringify(b)}` };
        }),
      );
    }
    return out;
  }

  private async probe(name: string, work: (probe: string) => Promise<Answer>): Promise<Answer> {
    try {
      return await work(name);
    } catch (err) {
      return { probe: name, at: Date.now(), kind: 'undocumented', detail: `request failed: ${(err as Error).message}` };
    }
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.answers.push(...(await this.round()));
        await new Promise((r) => setTimeout(r, this.roundGapMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /**
   * The answers that were wrong against the model's final state: a count above the final
   * one, a mention the stream never produced, or an answer that is neither a count nor a
   * documented error.
   */
  wrong(final: Expected): string[] {
    const out: string[] = [];
    for (const a of this.answers) {
      if (a.kind === 'undocumented') out.push(`${a.probe}: ${a.detail}`);
      else if (a.kind === 'value') {
        const max = final.values[a.probe];
        if (max === undefined || a.value > max) out.push(`${a.probe}: answered ${a.value}, above the final ${max}`);
        const unknown = (a.ids ?? []).filter((id) => !final.mentionIds.has(id));
        if (unknown.length > 0) out.push(`${a.probe}: answered mentions the stream never sent: ${unknown.join(',')}`);
      }
    }
    return out;
  }

  counts(): { values: number; documentedErrors: number; undocumented: number } {
    return {
      values: this.answers.filter((a) => a.kind === 'value').length,
      documentedErrors: this.answers.filter((a) => a.kind === 'documented-error').length,
      undocumented: this.answers.filter((a) => a.kind === 'undocumented').length,
    };
  }
}

/** The current answer of every probe: a count, or the error it answered ("error 91000", or the undocumented answer). */
export function answered(round: Answer[]): Record<string, number | string> {
  return Object.fromEntries(round.map((a) => [a.probe, a.kind === 'value' ? a.value : a.kind === 'documented-error' ? `error ${a.code}` : a.detail]));
}

/**
 * Once the harness's group has drained: the projections on `live` (the Redis that serves now)
 * hold the model's counts of `sent`, and the gateway answers the model's one-to-one total of
 * the workload's first account.
 */
export async function expectExact(h: Harness, w: Workload, sent: Ev[], live: Redis, mentionRetentionMs: number): Promise<void> {
  await drainedGroup(h.kafka, h.config, undefined, 60_000);
  await expectModelCounts(live, h.config.redis.keyPrefix, sent, mentionRetentionMs);
  const expected = modelCounts(sent).c2cTotal[`${w.tencentApp} ${w.accounts[0]!}`];
  const answer = await waitFor(() => tencentPost(h.gateway!.url, C2C, { To_Account: w.accounts[0] }), (r) => r.body.ActionStatus === 'OK', {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: 'the gateway to answer',
  });
  expect(answer).toEqual({ status: 200, body: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: expected } });
}

/**
 * Polls `take` until it equals `expected` or `timeoutMs` passes, and returns the last
 * snapshot taken (equal to `expected`, or the state the test then reports as wrong).
 */
export async function settledSnapshot<T = Snapshot>(take: () => Promise<T>, expected: T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await take();
  while (JSON.stringify(last) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    last = await take();
  }
  return last;
}

