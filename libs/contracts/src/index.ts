export * from './events';
export * from './parser';
export * from './refusal';
export * from './topics';
export * from './validators';
export * from './examples';
export * from './redis-refusal';
export * from './unread-changed';
