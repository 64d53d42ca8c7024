import {
  TencentBody,
  TencentCommand,
  TencentController,
  TencentCtx,
  type JsonObject,
  type TencentRequestContext,
} from '../tencent-request';
import { TENCENT, type TencentBody as TencentResponse } from '../tencent.errors';
import { GroupService } from './group.service';

/** Group unread: /v4/group_open_http_svc/set_unread_msg_num and /v4/group_open_http_svc/get_joined_group_list. */
@TencentController('group_open_http_svc')
export class GroupController {
  constructor(private readonly groups: GroupService) {}

  @TencentCommand('set_unread_msg_num')
  setUnread(
    @TencentCtx() ctx: TencentRequestContext,
    @TencentBody(TENCENT.JSON_PARSE) body: JsonObject,
  ): Promise<TencentResponse> {
    return this.groups.setUnread(ctx, body);
  }

  @TencentCommand('get_joined_group_list')
  joined(
    @TencentCtx() ctx: TencentRequestContext,
    @TencentBody(TENCENT.JSON_PARSE) body: JsonObject,
  ): Promise<TencentResponse> {
    return this.groups.joinedGroups(ctx, body);
  }
}
