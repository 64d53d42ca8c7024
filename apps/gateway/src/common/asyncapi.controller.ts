import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, type AppConfig } from '@app/config';
import { asyncApiDocument } from './asyncapi';
import { ADMIN_TAG } from './openapi';

@Controller('asyncapi.json')
@ApiTags(ADMIN_TAG)
export class AsyncApiController {
  private readonly document: Record<string, unknown>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.document = asyncApiDocument(config);
  }

  @Get()
  @ApiOperation({ summary: 'The AsyncAPI 3.0 document of every Kafka topic the service reads and writes (docs/events.md)' })
  @ApiOkResponse({ description: 'AsyncAPI 3.0 (JSON)', schema: { type: 'object', properties: { asyncapi: { type: 'string', example: '3.0.0' } }, required: ['asyncapi'] } })
  asyncapi(): Record<string, unknown> {
    return this.document;
  }
}
