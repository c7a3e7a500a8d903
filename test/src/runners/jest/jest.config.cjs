'use strict'
// The Jest run of runners.test.ts: its test files are generated into a scratch
// folder (TUT_JEST_FILES), all from client-paths.body.cjs; each is a fresh
// module registry and a fresh global, as in any Jest suite.
const path = require('node:path')

const files = process.env.TUT_JEST_FILES
if (!files) throw new Error('TUT_JEST_FILES: the folder of the generated test files is not set')
const cleanup = process.env.TUT_JEST_GLOBALS_CLEANUP

module.exports = {
  rootDir: __dirname,
  roots: [files],
  testMatch: ['**/*.test.cjs'],
  // Plain CommonJS: no Babel, so what runs is the core's own CJS build.
  transform: {},
  testEnvironment: 'node',
  testEnvironmentOptions: cleanup ? { globalsCleanup: cleanup } : {},
  cacheDirectory: path.join(files, '..', 'jest-cache'),
  watchman: false,
}
