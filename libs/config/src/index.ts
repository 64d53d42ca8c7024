export * from './config';
export * from './config.module';
export * from './logging';
export * from './node-flags';
