/** Integration tests: real redis-server and the real Kafka-protocol mock broker over TCP. */
const aliases = require('./jest-aliases');
module.exports = {
  rootDir: '..',
  moduleFileExtensions: ['js', 'json', 'ts'],
  roots: ['<rootDir>/test/'],
  testRegex: '.*\\.e2e-spec\\.ts$',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
  moduleNameMapper: aliases,
  testTimeout: 60_000,
  setupFiles: ['reflect-metadata'],
};
