import { Controller, Header, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import { QchatAuthGuard, type QchatRequest } from './qchat-auth.guard';
import { UnreadMentionsService } from './unread-mentions.service';

/** NetEase QChat: POST /nimserver/qchat/queryChannelUnReadMentionedMsgPage.action (docs/api/qchat.md). */
@Controller('nimserver/qchat')
@UseGuards(QchatAuthGuard)
export class UnreadMentionsController {
  constructor(private readonly service: UnreadMentionsService) {}

  @Post('queryChannelUnReadMentionedMsgPage.action')
  @HttpCode(200)
  @Header('Content-Type', 'application/json; charset=utf-8')
  query(@Req() req: QchatRequest): Promise<string> {
    return this.service.query(req.qchatApp ?? '', req.headers['content-type'], req.body);
  }
}
