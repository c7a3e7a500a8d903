// The vitest runs of runners.test.ts (TUT_VITEST_POOL: forks or threads).
// The outer suite's include (src/**/*.test.ts) never matches these files.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const pool = process.env.TUT_VITEST_POOL
if (pool !== 'forks' && pool !== 'threads') throw new Error(`TUT_VITEST_POOL: forks or threads, got ${pool}`)

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Its results cache goes to the caller's scratch folder, not beside the sources.
  cacheDir: process.env.TUT_VITEST_CACHE,
  test: {
    include: ['*.inner.ts'],
    pool,
    isolate: true,
    // Evaluated by vitest's module runner, as a workspace package or a
    // source alias would be, so each file's isolation re-evaluates the core
    // (an external dependency would be Node's one cached instance).
    server: { deps: { inline: [/@tcp-user-timeout\/core/] } },
    testTimeout: 20_000,
  },
})
