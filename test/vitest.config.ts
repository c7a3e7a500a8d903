import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The test processes trust the fixtures' self-signed certificate, so global
// fetch (whose bundled undici takes no CA option) can reach https on loopback.
// Read by Node at process start: it must be set before the forks spawn.
process.env.NODE_EXTRA_CA_CERTS = fileURLToPath(new URL('./fixtures/cert.pem', import.meta.url))

// No colour where the output is not a terminal (a CI log, a file, a pipe): tinyrainbow, which vitest
// and the tests' children colour with, looks at TERM and CI, never at whether stdout is a terminal.
// Set here, NO_COLOR reaches the forks and every child a test starts; vitest's own reporter has read
// the environment before this file loads, so the test script (`pnpm test`) sets it before vitest starts.
if (!process.stdout.isTTY) process.env.NO_COLOR ??= '1'

const SUITE = ['src/**/*.test.ts', '../packages/*/test/**/*.test.ts']
const LOAD = ['src/hosts/**/*.test.ts', 'src/workers.test.ts', 'src/runners/**/*.test.ts']
// A multiplexed connection cut in steady state: whether data is left unacknowledged at the cut depends
// on both processes keeping up with HTTP/2 flow control, which a loaded machine can starve.
const ALONE = ['src/http2/partition.test.ts', 'src/grpc/partition.test.ts']

function kit(path: string): string {
  return fileURLToPath(new URL(`../packages/test-utils/${path}`, import.meta.url))
}

export default defineConfig({
  resolve: {
    // The adapters' own specs (packages/<name>/test) import the kit by name. The kit
    // depends on every adapter, so an adapter depending on the kit would make a cycle.
    alias: [{ find: /^@tcp-user-timeout\/test-utils$/, replacement: kit('src/index.ts') }],
  },
  test: {
    projects: [
      // The cross-package tests, and each package's own (its contract spec), two files at a time.
      {
        extends: true,
        test: { name: 'suite', include: SUITE, exclude: [...LOAD, ...ALONE], sequence: { groupOrder: 0 } },
      },
      // Then the files that start hundreds of workers or processes: their CPU storm would starve the
      // kernel tests' apps past those tests' windows, so they never run beside them.
      { extends: true, test: { name: 'load', include: LOAD, sequence: { groupOrder: 1 } } },
      // Last, with nothing else running.
      { extends: true, test: { name: 'alone', include: ALONE, sequence: { groupOrder: 2 } } },
    ],
    // Each file in its own process: the client hooks patch process-wide
    // prototypes, and several files set the global default.
    pool: 'forks',
    // Two files at a time, as many as the CI machine has cores: the kernel
    // tests' windows (ETIMEDOUT within the bound + 1.5 s) hold under that load.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
})
