export * from './usersig';
export * from './netease-checksum';
