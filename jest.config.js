/** Unit tests: colocated *.spec.ts under apps/ and libs/ (pure logic; Lua runs on real Redis in test/). */
const aliases = require('./test/jest-aliases');
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  roots: ['<rootDir>/apps/', '<rootDir>/libs/'],
  testRegex: '.*\\.spec\\.ts$',
  transform: { '^.+\\.ts$': 'ts-jest' },
  testEnvironment: 'node',
  moduleNameMapper: aliases,
  setupFiles: ['reflect-metadata'],
};
