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
  // A suite that fails in a hook can leave a socket or timer behind, and jest then waits for
  // it forever after printing the results (a CI run once hung so until its time ran out).
  // Exit when the run is done; every broker, Redis and app process a test started is killed
  // on exit (reapOnExit in apps/tools/src/local-services.ts).
  forceExit: true,
  setupFiles: ['reflect-metadata'],
};
