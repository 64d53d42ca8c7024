/** Unit tests: *.spec.ts colocated under apps/ and libs/, plus test/*.spec.ts (pure logic; Lua runs on real Redis in the e2e tier). */
const aliases = require('./test/jest-aliases');
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  roots: ['<rootDir>/apps/', '<rootDir>/libs/', '<rootDir>/test/'],
  testRegex: '.*\\.spec\\.ts$',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
  moduleNameMapper: aliases,
  setupFiles: ['reflect-metadata'],
};
