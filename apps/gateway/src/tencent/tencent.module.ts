import { Module } from '@nestjs/common';

/** Tencent Cloud IM REST endpoints (/v4/...). */
@Module({})
export class TencentModule {}
