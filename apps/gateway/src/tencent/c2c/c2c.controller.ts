import { TencentBody, TencentCommand, TencentController, TencentCtx, type JsonObject, type TencentRequestContext } from '../tencent-request';
import type { TencentBody as TencentResponse } from '../tencent.errors';
import { C2C_ERRORS, C2cService } from './c2c.service';

/** One-to-one unread: /v4/openim/get_c2c_unread_msg_num and /v4/openim/admin_set_msg_read. */
@TencentController('openim')
export class C2cController {
  constructor(private readonly c2c: C2cService) {}

  @TencentCommand('get_c2c_unread_msg_num')
  unread(@TencentCtx() ctx: TencentRequestContext, @TencentBody(C2C_ERRORS.JSON_PARSE) body: JsonObject): Promise<TencentResponse> {
    return this.c2c.unread(ctx, body);
  }

  @TencentCommand('admin_set_msg_read')
  setRead(@TencentCtx() ctx: TencentRequestContext, @TencentBody(C2C_ERRORS.JSON_PARSE) body: JsonObject): Promise<TencentResponse> {
    return this.c2c.setRead(ctx, body);
  }
}
