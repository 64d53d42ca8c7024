import { Module } from '@nestjs/common';

/** NetEase QChat server API endpoints (/nimserver/qchat/...). */
@Module({})
export class QchatModule {}
