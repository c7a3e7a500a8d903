// A job runner's wrapper has no app to build: this module only says what the
// rest of the repository needs of the package. Its tests (test/src/jobs) need
// the machine's Redis.
export const adapter = {
  kind: 'job',
  package: '@tcp-user-timeout/bullmq',
  exports: { functions: ['withTcpUserTimeout'] },
  example: 'jobs',
}
