export * from './config';
export * from './config.module';
export * from './kafka-security';
export * from './logging';
export * from './node-flags';
