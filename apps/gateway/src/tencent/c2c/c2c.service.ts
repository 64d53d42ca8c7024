import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { isId, validateEvent, type C2cReadAck } from '@app/contracts';
import { EventProducer } from '@app/kafka';
import { ProjectionStore } from '@app/store';
import { optionalAccountList, requiredAccount, type JsonObject, type TencentRequestContext } from '../tencent-request';
import { TENCENT, TencentError, tencentOk, type TencentBody } from '../tencent.errors';

/** How far ahead of the gateway's clock a MsgReadTime may be (the callers' clock skew). */
export const MSG_READ_TIME_MAX_AHEAD_MS = 5_000;

/** The openim commands' own error codes (docs/api/tencent.md). */
export const C2C_ERRORS = {
  /** The body is not a JSON object of the documented shape. */
  JSON_PARSE: 90001,
  /** To_Account / Report_Account missing or not an existing account. */
  TO_ACCOUNT: 90003,
  /** The sending side (Peer_Account of admin_set_msg_read) missing or not a valid account id. */
  FROM_ACCOUNT: 90008,
  /** More accounts in one request than the command allows. */
  TOO_MANY_ACCOUNTS: 90011,
} as const;

/** At most this many peers per get_c2c_unread_msg_num (vendor limit). */
export const MAX_PEERS = 10;

@Injectable()
export class C2cService {
  constructor(
    private readonly store: ProjectionStore,
    private readonly producer: EventProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * get_c2c_unread_msg_num. The total is one HMGET on the owner's slot (its existence is a
   * field of the counts hash); with peers, one Lua call on a single Redis, one round trip
   * per node on a Cluster (C2cStore.perPeerWithPeers).
   */
  async unread(ctx: TencentRequestContext, body: JsonObject): Promise<TencentBody> {
    const app = ctx.app.sdkAppId;
    const to = requiredAccount(body, 'To_Account', C2C_ERRORS.TO_ACCOUNT);
    const peers = optionalAccountList(body, 'Peer_Account');
    // The id rules before Redis: a string that cannot be an account id never becomes a key name.
    if (!isId(to)) throw new TencentError(C2C_ERRORS.TO_ACCOUNT, 'To_Account is not a valid account id');
    if (peers === undefined) {
      const { registered, total } = await this.store.c2c.total(app, to);
      if (!registered) {
        throw new TencentError(C2C_ERRORS.TO_ACCOUNT, `To_Account ${to} does not exist`);
      }
      return tencentOk({ AllC2CUnreadMsgNum: total });
    }
    if (peers.length > MAX_PEERS) {
      throw new TencentError(C2C_ERRORS.TOO_MANY_ACCOUNTS, `Peer_Account holds ${peers.length} accounts; at most ${MAX_PEERS} are allowed`);
    }
    // Peers that break the id rules are not accounts (70107) and are not asked about.
    const asked = peers.filter((p) => isId(p));
    const owner = await this.store.c2c.perPeerWithPeers(app, to, asked);
    if (!owner.registered) {
      throw new TencentError(C2C_ERRORS.TO_ACCOUNT, `To_Account ${to} does not exist`);
    }
    const exist: boolean[] = [];
    const counts: number[] = [];
    for (let i = 0, j = 0; i < peers.length; i++) {
      if (!isId(peers[i])) {
        exist.push(false);
        counts.push(0);
      } else {
        exist.push(Boolean(owner.peersRegistered[j]));
        counts.push(owner.counts[j] ?? 0);
        j++;
      }
    }
    const list: { Peer_Account: string; C2CUnreadMsgNum: number }[] = [];
    const errors: { Peer_Account: string; ErrorCode: number }[] = [];
    for (let i = 0; i < peers.length; i++) {
      const peer = peers[i]!;
      if (exist[i]) list.push({ Peer_Account: peer, C2CUnreadMsgNum: counts[i] ?? 0 });
      else errors.push({ Peer_Account: peer, ErrorCode: TENCENT.ACCOUNT_NOT_FOUND });
    }
    return errors.length > 0
      ? tencentOk({ C2CUnreadMsgNumList: list, ErrorList: errors })
      : tencentOk({ C2CUnreadMsgNumList: list });
  }

  /**
   * admin_set_msg_read: validated, then appended to Kafka as a c2c read-ack; OK only once
   * the broker acknowledged it. MsgReadTime is in seconds; the ack covers that whole second
   * (readTime = MsgReadTime × 1000 + 999 ms), and without it, now (in ms).
   */
  async setRead(ctx: TencentRequestContext, body: JsonObject): Promise<TencentBody> {
    const app = ctx.app.sdkAppId;
    const account = requiredAccount(body, 'Report_Account', C2C_ERRORS.TO_ACCOUNT);
    const peer = requiredAccount(body, 'Peer_Account', C2C_ERRORS.FROM_ACCOUNT);
    if (!isId(peer)) throw new TencentError(C2C_ERRORS.FROM_ACCOUNT, 'Peer_Account is not a valid account id');
    const seconds = body.MsgReadTime;
    let readTime: number;
    if (seconds === undefined || seconds === null) {
      readTime = Date.now();
    } else if (typeof seconds === 'number' && Number.isSafeInteger(seconds) && seconds >= 0 && Number.isSafeInteger(seconds * 1000 + 999)) {
      // A read time ahead of now would leave the messages of the seconds up to it "read" as they arrive.
      if (seconds * 1000 > Date.now() + MSG_READ_TIME_MAX_AHEAD_MS) {
        throw new TencentError(C2C_ERRORS.JSON_PARSE, `MsgReadTime is in the future (more than ${MSG_READ_TIME_MAX_AHEAD_MS / 1000} s ahead of the server's clock)`);
      }
      readTime = seconds * 1000 + 999;
    } else {
      throw new TencentError(C2C_ERRORS.JSON_PARSE, 'MsgReadTime must be Unix seconds (a non-negative integer)');
    }
    if (!isId(account) || !(await this.store.directory.exists(app, account))) {
      throw new TencentError(C2C_ERRORS.TO_ACCOUNT, `Report_Account ${account} does not exist`);
    }
    const event: C2cReadAck = { type: 'read-ack', scope: 'c2c', appId: app, eventId: randomUUID(), account, peer, readTime };
    const checked = validateEvent(event, 'readAck');
    if (!checked.ok) throw new TencentError(C2C_ERRORS.JSON_PARSE, checked.reason);
    await this.producer.send([event], this.config.requestTimeoutMs);
    return tencentOk();
  }
}
