export * from './event.producer';
export * from './kafka.factory';
