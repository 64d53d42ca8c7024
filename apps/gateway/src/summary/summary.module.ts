import { Module } from '@nestjs/common';
import { SummaryController } from './summary.controller';
import { SummaryGuard } from './summary.guard';
import { SummaryService } from './summary.service';

/** GET /v1/apps/{appId}/accounts/{account}/unread, behind a per-tenant bearer key. */
@Module({ controllers: [SummaryController], providers: [SummaryService, SummaryGuard] })
export class SummaryModule {}
