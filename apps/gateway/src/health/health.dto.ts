import { ApiProperty } from '@nestjs/swagger';

export class LiveDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

export class ReadyDto {
  @ApiProperty({ enum: ['ready'] }) status!: 'ready';
  @ApiProperty({ enum: ['up'] }) redis!: 'up';
}

export class NotReadyDto {
  @ApiProperty({ enum: ['not-ready'] }) status!: 'not-ready';
  @ApiProperty({ enum: ['down'] }) redis!: 'down';
  @ApiProperty({ example: 'redis did not answer PING in time' }) reason!: string;
}
