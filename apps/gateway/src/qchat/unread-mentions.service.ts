import { Injectable } from '@nestjs/common';
import { ProjectionStore } from '@app/store';
import { QCHAT, QchatError } from './qchat.errors';
import { parseUnreadMentionsForm, renderUnreadMentionsBytes } from './unread-mentions.dto';

/**
 * queryChannelUnReadMentionedMsgPage: validates the form, checks account, server, channel
 * and membership (one read-only Lua call on a single Redis: ChannelStore.access), then reads
 * one page (one Lua call for its ids, one HMGET for their answers).
 */
@Injectable()
export class UnreadMentionsService {
  constructor(private readonly store: ProjectionStore) {}

  /** Returns the success body as UTF-8 JSON bytes (see renderUnreadMentionsBytes); failures throw QchatError. */
  async query(app: string, contentType: string | undefined, body: unknown): Promise<Buffer> {
    const now = Date.now();
    const form = parseUnreadMentionsForm(contentType, body, now);
    const access = await this.store.channel.access(app, form.serverId, form.channelId, form.accid);
    if (!access.registered) throw new QchatError(QCHAT.NOT_FOUND, `account ${form.accid} not found`);
    if (!access.serverKnown)
      throw new QchatError(QCHAT.NOT_FOUND, `server ${form.serverId} not found`);
    if (!access.channelKnown)
      throw new QchatError(QCHAT.NOT_FOUND, `channel ${form.channelId} not found`);
    if (!access.member)
      throw new QchatError(
        QCHAT.NOT_FOUND,
        `account ${form.accid} is not a member of server ${form.serverId}`,
      );
    const page = await this.store.channel.unreadMentionParts({
      app,
      serverId: form.serverId,
      channelId: form.channelId,
      account: form.accid,
      roles: access.roles,
      position: form.position,
      limit: form.limit,
      now,
    });
    return renderUnreadMentionsBytes(page);
  }
}
