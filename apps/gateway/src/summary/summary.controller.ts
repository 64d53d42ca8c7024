import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiInternalServerErrorResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { HttpErrorDto } from '../common/openapi';
import { AccountSummaryDto } from './summary.dto';
import { SummaryGuard } from './summary.guard';
import { DEFAULT_SUMMARY_LIMIT, MAX_SUMMARY_LIMIT, SummaryService, type AccountSummary } from './summary.service';

/** The account summary API (beyond both vendors): docs/api/summary.md. */
@Controller('v1/apps/:appId/accounts/:account')
@UseGuards(SummaryGuard)
@ApiTags('Account summary')
@ApiBearerAuth('apiKey')
export class SummaryController {
  constructor(private readonly summaries: SummaryService) {}

  @Get('unread')
  @ApiOperation({ summary: 'Everything unread of one account: one-to-one, groups, QChat mentions', description: 'docs/api/summary.md.' })
  @ApiParam({ name: 'appId', description: 'the tenant: a Tencent SDKAppID or a NetEase AppKey', example: 'go9dnk49bkd9jd9vmel1kglw0803mgq3' })
  @ApiParam({ name: 'account', example: 'alice' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_SUMMARY_LIMIT, default: DEFAULT_SUMMARY_LIMIT }, description: 'entries per section' })
  @ApiOkResponse({ type: AccountSummaryDto })
  @ApiBadRequestResponse({ type: HttpErrorDto, example: { statusCode: 400, message: `limit must be an integer from 1 to ${MAX_SUMMARY_LIMIT}` } })
  @ApiUnauthorizedResponse({
    type: HttpErrorDto,
    examples: {
      missing: { summary: 'no bearer token', value: { statusCode: 401, message: 'missing bearer token' } },
      wrong: { summary: 'wrong key, unknown app, or app without a key', value: { statusCode: 401, message: 'invalid credentials for this app' } },
    },
  })
  @ApiNotFoundResponse({ type: HttpErrorDto, example: { statusCode: 404, message: 'account nobody not found' } })
  @ApiTooManyRequestsResponse({ type: HttpErrorDto, example: { statusCode: 429, message: 'more than 1000 accounts per second in summary calls for this app' } })
  @ApiInternalServerErrorResponse({ type: HttpErrorDto, example: { statusCode: 500, message: 'internal error (request 6f1c…)' } })
  unread(@Param('appId') appId: string, @Param('account') account: string, @Query('limit') limit: unknown): Promise<AccountSummary> {
    return this.summaries.summary(appId, account, limit);
  }
}
