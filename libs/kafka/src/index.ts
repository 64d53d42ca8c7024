export * from './event.producer';
export * from './kafka.factory';
export * from './kafka.probe';
