import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { beforeAll, describe, expect, it } from 'vitest'
import { perSuite } from '@tcp-user-timeout/test-utils/teardown'
import { describeChild, resultOf, runNode } from './helpers/child.js'

// esbuild bundles of a small Express app using @tcp-user-timeout/express, with
// ffi-rs marked external (a native addon cannot be bundled). Each bundle is
// written to a scratch directory outside the workspace whose node_modules
// holds only ffi-rs (a link to the installed one, as a deployment ships it
// beside the bundle), and run as a child process: a request whose handler
// opens an outbound socket must read back the adapter's bound, and support()
// must be true (and, for a core-only app, a socket connected in a scope).
// The CommonJS build used to resolve ffi-rs through
// createRequire(import.meta.url), which an esbuild CommonJS bundle empties:
// the library then did nothing.

const FIXTURES = fileURLToPath(new URL('./bundles/', import.meta.url))
const SECONDS = 17
const BUILD_TIMEOUT_MS = 30_000
const RUN_TIMEOUT_MS = 20_000

const BUNDLES = [
  { name: 'ESM app as an ESM bundle', entry: 'app.mjs', format: 'esm', out: 'esm-app.mjs' },
  { name: 'ESM app as a CommonJS bundle', entry: 'app.mjs', format: 'cjs', out: 'esm-app.cjs' },
  { name: 'CommonJS app as a CommonJS bundle', entry: 'app.cjs', format: 'cjs', out: 'cjs-app.cjs' },
  {
    name: 'core-only ESM app as an ESM bundle, no require banner',
    entry: 'core-only.mjs',
    format: 'esm',
    out: 'core-only.mjs',
  },
] as const

const suite = perSuite()
let dir: string | undefined

beforeAll(async () => {
  dir = suite.defer(mkdtempSync(join(tmpdir(), 'tut-bundles-')), (d) => rmSync(d, { recursive: true, force: true }))
  // ffi-rs as the core installed it (its realpath, so that its own platform package resolves beside it).
  const coreRequire = createRequire(createRequire(import.meta.url).resolve('@tcp-user-timeout/core/package.json'))
  const ffiRs = realpathSync(dirname(coreRequire.resolve('ffi-rs/package.json')))
  mkdirSync(join(dir, 'node_modules'))
  symlinkSync(ffiRs, join(dir, 'node_modules', 'ffi-rs'), 'dir')
  for (const b of BUNDLES) {
    await build({
      entryPoints: [join(FIXTURES, b.entry)],
      outfile: join(dir, b.out),
      bundle: true,
      platform: 'node',
      format: b.format,
      target: 'node20',
      external: ['ffi-rs'],
      // Express's CommonJS dependencies require Node builtins ('tty', 'fs'):
      // an ESM bundle of them needs a real require, the banner every ESM
      // bundle of Express carries (the core itself does not need it).
      banner:
        b.format === 'esm' && b.entry !== 'core-only.mjs'
          ? {
              js:
                "import { createRequire as __tutCreateRequire } from 'node:module'; " +
                'const require = __tutCreateRequire(import.meta.url);',
            }
          : {},
      logLevel: 'silent',
    })
  }
}, BUILD_TIMEOUT_MS)

/** The env of a bundle: ours without NODE_PATH (pnpm's shims point it at the workspace's hoisted packages). */
function bundleEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.NODE_PATH
  delete env.NODE_OPTIONS
  return env
}

describe.each(BUNDLES.map((b) => [b.name, b] as const))('esbuild bundle: %s', (_name, b) => {
  it('holds the app, Express and both packages, and leaves ffi-rs to node_modules', () => {
    const code = readFileSync(join(dir!, b.out), 'utf8')
    expect(code).toContain('tcp-user-timeout:bind')
    if (b.entry !== 'core-only.mjs') expect(code).toContain('express')
    expect(code, 'ffi-rs is not inlined').not.toContain('napi_register_module_v1')
    expect(code, 'ffi-rs is not inlined').not.toContain('isMusl')
  })

  it.runIf(process.platform === 'linux')(
    `binds its outbound socket to ${SECONDS * 1000} ms (a request's scope; ` +
      `withTimeout in the core-only app), support() is true, no warning`,
    async () => {
      const run = await runNode([b.out], { cwd: dir!, timeoutMs: RUN_TIMEOUT_MS, env: bundleEnv() })
      expect(run.code, describeChild(`node ${b.out}`, run)).toBe(0)
      const result = resultOf<{
        status: number
        body: { ms: number | null }
        support: { supported: boolean; reason?: string }
      }>(run)
      expect(result, describeChild(`node ${b.out} reported nothing`, run)).toBeDefined()
      expect(result!.support).toEqual({ supported: true })
      expect(result!.status).toBe(200)
      expect(result!.body).toEqual({ ms: SECONDS * 1000 })
      expect(run.stderr).not.toContain('TUT_WARN')
    },
  )
})
