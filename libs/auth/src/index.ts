export * from './usersig';
export * from './netease-checksum';
export * from './failure-budget';
