export * from './events';
export * from './parser';
export * from './topics';
export * from './validators';
export * from './examples';
