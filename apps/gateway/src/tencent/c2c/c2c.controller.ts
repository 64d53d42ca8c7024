import { VendorOperation } from '../../common/openapi';
import {
  TencentBody,
  TencentCommand,
  TencentController,
  TencentCtx,
  type JsonObject,
  type TencentRequestContext,
} from '../tencent-request';
import { TENCENT_COMMON_ERRORS, TENCENT_FAMILY, TencentOkDto } from '../tencent.dto';
import type { TencentBody as TencentResponse } from '../tencent.errors';
import { ADMIN_SET_MSG_READ_ERRORS, AdminSetMsgReadRequestDto, C2C_UNREAD_ERRORS, C2cUnreadRequestDto, C2cUnreadResponseDto } from './c2c.dto';
import { C2C_ERRORS, C2cService } from './c2c.service';

/** One-to-one unread: /v4/openim/get_c2c_unread_msg_num and /v4/openim/admin_set_msg_read. */
@TencentController('openim')
export class C2cController {
  constructor(private readonly c2c: C2cService) {}

  @TencentCommand('get_c2c_unread_msg_num')
  @VendorOperation({
    summary: 'One-to-one unread of an account: the total, or per peer (at most 10)',
    description: 'docs/api/tencent.md, "POST /v4/openim/get_c2c_unread_msg_num".',
    family: TENCENT_FAMILY,
    body: C2cUnreadRequestDto,
    ok: C2cUnreadResponseDto,
    okExamples: {
      total: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', AllC2CUnreadMsgNum: 5 },
      'per peer': {
        ActionStatus: 'OK',
        ErrorCode: 0,
        ErrorInfo: '',
        C2CUnreadMsgNumList: [{ Peer_Account: 'bob', C2CUnreadMsgNum: 2 }],
        ErrorList: [{ Peer_Account: 'nobody', ErrorCode: 70107 }],
      },
    },
    errors: [...C2C_UNREAD_ERRORS, ...TENCENT_COMMON_ERRORS],
  })
  unread(@TencentCtx() ctx: TencentRequestContext, @TencentBody(C2C_ERRORS.JSON_PARSE) body: JsonObject): Promise<TencentResponse> {
    return this.c2c.unread(ctx, body);
  }

  @TencentCommand('admin_set_msg_read')
  @VendorOperation({
    summary: 'Mark a one-to-one conversation read for an account, up to a time (appended to Kafka as a read-ack)',
    description: 'docs/api/tencent.md, "POST /v4/openim/admin_set_msg_read".',
    family: TENCENT_FAMILY,
    body: AdminSetMsgReadRequestDto,
    ok: TencentOkDto,
    okExamples: { ok: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' } },
    errors: [...ADMIN_SET_MSG_READ_ERRORS, ...TENCENT_COMMON_ERRORS],
  })
  setRead(@TencentCtx() ctx: TencentRequestContext, @TencentBody(C2C_ERRORS.JSON_PARSE) body: JsonObject): Promise<TencentResponse> {
    return this.c2c.setRead(ctx, body);
  }
}
