import { Controller, Header, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { VendorOperation } from '../common/openapi';
import { QchatAuthGuard, type QchatRequest } from './qchat-auth.guard';
import { QCHAT_COMMON_ERRORS, QCHAT_FAMILY, QchatApiDocs, UNREAD_MENTIONS_ERRORS, UnreadMentionsFormDto, UnreadMentionsPageDto } from './qchat.dto';
import { UnreadMentionsService } from './unread-mentions.service';

/** NetEase QChat: POST /nimserver/qchat/queryChannelUnReadMentionedMsgPage.action (docs/api/qchat.md). */
@Controller('nimserver/qchat')
@UseGuards(QchatAuthGuard)
@QchatApiDocs()
export class UnreadMentionsController {
  constructor(private readonly service: UnreadMentionsService) {}

  @Post('queryChannelUnReadMentionedMsgPage.action')
  @VendorOperation({
    summary: 'Unread messages of a channel that @-mention an account, newest first, paged',
    description: 'docs/api/qchat.md, "POST /nimserver/qchat/queryChannelUnReadMentionedMsgPage.action".',
    family: QCHAT_FAMILY,
    body: UnreadMentionsFormDto,
    form: true,
    ok: UnreadMentionsPageDto,
    okExamples: {
      page: {
        code: 200,
        data: {
          pageInfo: { nextTimetag: 1669794854263, hasMore: false },
          msgList: [
            {
              msgIdServer: 16846554,
              msgIdClient: '100ada1c7bc04b6e9d59051d402203bf',
              fromAccount: 'wmyytest1',
              fromNick: 'wmyytest1',
              fromClientType: 'REST',
              time: 1669794854264,
              updateTime: 1669794854264,
              status: 0,
              mentionedAll: 1,
              type: 0,
              body: '10.196.124.59',
              attach: 'sasa',
              ext: 'sasa',
            },
          ],
        },
      },
    },
    errors: [...UNREAD_MENTIONS_ERRORS, ...QCHAT_COMMON_ERRORS],
  })
  @HttpCode(200)
  @Header('Content-Type', 'application/json; charset=utf-8')
  async query(@Req() req: QchatRequest, @Res() res: Response): Promise<void> {
    // The page's bytes as they are (Nest would send a Buffer as JSON of the Buffer): status
    // and Content-Type are set by the decorators above, as for any route, and the headers
    // on the wire are those res.send writes for the same text (Content-Length after them).
    // A failure throws before anything is written, to the exception filter as before.
    const body = await this.service.query(req.qchatApp ?? '', req.headers['content-type'], req.body);
    res.setHeader('Content-Length', body.length);
    res.end(body);
  }
}
