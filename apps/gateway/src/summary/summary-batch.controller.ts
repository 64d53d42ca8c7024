import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiInternalServerErrorResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { HttpErrorDto } from '../common/openapi';
import { BatchUnreadDto, BatchUnreadRequestDto } from './summary.dto';
import { SummaryGuard } from './summary.guard';
import { MAX_BATCH_ACCOUNTS, SummaryService, type BatchUnread } from './summary.service';

/**
 * The batch form of the summary API, for push services (docs/api/summary.md). Behind the
 * same guard as the summary: a call charges each distinct account it names against the tenant's SUMMARY_RATE_LIMIT.
 */
@Controller('v1/apps/:appId')
@UseGuards(SummaryGuard)
@ApiTags('Account summary')
@ApiBearerAuth('apiKey')
export class SummaryBatchController {
  constructor(private readonly summaries: SummaryService) {}

  @Post('unread')
  @HttpCode(200)
  @ApiOperation({ summary: 'Totals and badge of up to 100 accounts in one call', description: 'docs/api/summary.md.' })
  @ApiParam({ name: 'appId', description: 'the tenant: a Tencent SDKAppID or a NetEase AppKey', example: '1400000000' })
  @ApiBody({ type: BatchUnreadRequestDto })
  @ApiOkResponse({ type: BatchUnreadDto })
  @ApiBadRequestResponse({ type: HttpErrorDto, example: { statusCode: 400, message: `the body must be a JSON object {"accounts": [...]} with 1 to ${MAX_BATCH_ACCOUNTS} account ids (strings)` } })
  @ApiUnauthorizedResponse({ type: HttpErrorDto, example: { statusCode: 401, message: 'invalid credentials for this app' } })
  @ApiTooManyRequestsResponse({ type: HttpErrorDto, example: { statusCode: 429, message: 'more than 1000 accounts per second in summary calls for this app' } })
  @ApiInternalServerErrorResponse({ type: HttpErrorDto, example: { statusCode: 500, message: 'internal error (request 6f1c…)' } })
  unread(@Param('appId') appId: string, @Body() body: unknown): Promise<BatchUnread> {
    return this.summaries.batch(appId, body);
  }
}
