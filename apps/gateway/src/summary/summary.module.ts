import { Module } from '@nestjs/common';
import { SummaryBatchController } from './summary-batch.controller';
import { SummaryController } from './summary.controller';
import { SummaryGuard } from './summary.guard';
import { SummaryService } from './summary.service';

/** GET /v1/apps/{appId}/accounts/{account}/unread and POST /v1/apps/{appId}/unread, behind a per-tenant bearer key. */
@Module({ controllers: [SummaryController, SummaryBatchController], providers: [SummaryService, SummaryGuard] })
export class SummaryModule {}
