import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LiveDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

export class ReadyDto {
  @ApiProperty({ enum: ['ready'] }) status!: 'ready';
  @ApiProperty({ enum: ['up'] }) redis!: 'up';
}

export class NotReadyDto {
  @ApiProperty({ enum: ['not-ready'] }) status!: 'not-ready';
  @ApiProperty({ enum: ['up', 'down'] }) redis!: 'up' | 'down';
  @ApiPropertyOptional({ enum: ['redis did not answer PING'], description: 'names the dependency, never its error text' }) reason?: string;
  @ApiPropertyOptional({ enum: ['refused'], description: "the brokers refused the client's security (the log says why)" }) kafka?: 'refused';
}
