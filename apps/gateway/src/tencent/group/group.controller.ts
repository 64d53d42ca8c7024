import {
  TencentBody,
  TencentCommand,
  TencentController,
  TencentCtx,
  type JsonObject,
  type TencentRequestContext,
} from '../tencent-request';
import { VendorOperation } from '../../common/openapi';
import { TENCENT_COMMON_ERRORS, TENCENT_FAMILY, TencentOkDto } from '../tencent.dto';
import { TENCENT, type TencentBody as TencentResponse } from '../tencent.errors';
import {
  JOINED_GROUP_LIST_ERRORS,
  JoinedGroupListRequestDto,
  JoinedGroupListResponseDto,
  SET_UNREAD_ERRORS,
  SetUnreadMsgNumRequestDto,
} from './group.dto';
import { GroupService } from './group.service';

/** Group unread: /v4/group_open_http_svc/set_unread_msg_num and /v4/group_open_http_svc/get_joined_group_list. */
@TencentController('group_open_http_svc')
export class GroupController {
  constructor(private readonly groups: GroupService) {}

  @TencentCommand('set_unread_msg_num')
  @VendorOperation({
    summary: 'Set a group member\'s unread count (appended to Kafka as a group-unread-set)',
    description: 'docs/api/tencent.md, "POST /v4/group_open_http_svc/set_unread_msg_num".',
    family: TENCENT_FAMILY,
    body: SetUnreadMsgNumRequestDto,
    ok: TencentOkDto,
    okExamples: { ok: { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' } },
    errors: [...SET_UNREAD_ERRORS, ...TENCENT_COMMON_ERRORS],
  })
  setUnread(
    @TencentCtx() ctx: TencentRequestContext,
    @TencentBody(TENCENT.JSON_PARSE) body: JsonObject,
  ): Promise<TencentResponse> {
    return this.groups.setUnread(ctx, body);
  }

  @TencentCommand('get_joined_group_list')
  @VendorOperation({
    summary: 'The groups of an account, with SelfInfo.UnreadMsgNum',
    description: 'docs/api/tencent.md, "POST /v4/group_open_http_svc/get_joined_group_list".',
    family: TENCENT_FAMILY,
    body: JoinedGroupListRequestDto,
    ok: JoinedGroupListResponseDto,
    okExamples: {
      ok: {
        ActionStatus: 'OK',
        ErrorCode: 0,
        ErrorInfo: '',
        TotalCount: 1,
        GroupIdList: [{ GroupId: '@TGS#2J4SZEAEL', Type: 'Public', Name: 'team', SelfInfo: { UnreadMsgNum: 4 } }],
      },
    },
    errors: [...JOINED_GROUP_LIST_ERRORS, ...TENCENT_COMMON_ERRORS],
  })
  joined(
    @TencentCtx() ctx: TencentRequestContext,
    @TencentBody(TENCENT.JSON_PARSE) body: JsonObject,
  ): Promise<TencentResponse> {
    return this.groups.joinedGroups(ctx, body);
  }
}
