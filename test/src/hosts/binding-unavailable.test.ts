import { rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeChild, runNode, type ChildRun } from '../helpers/child.js'
import { NO_BINARY_SCRIPT, expectNoBinding } from '../helpers/no-binding.js'
import { CHILD_TIMEOUT_MS, announceSkip, envWith, notLinux, permissionFlags } from './host.js'
import { coreWithoutFfi } from './scratch.js'

// Where the binding truly cannot load, the core says so once: support()
// unsupported with the reason, exactly one TUT_WARN_NATIVE_UNAVAILABLE
// warning in the process, every call a no-op. packaging/no-binary.mjs (the
// script of the --omit=optional packaging test) is the app; here it runs
// under the permission model without --allow-addons, and in a project where
// ffi-rs is not installed at all. Main thread only: warnings are per thread.

const FILE = 'hosts/binding-unavailable'
announceSkip(FILE, notLinux)
const NO_BINARY = fileURLToPath(NO_BINARY_SCRIPT)

describe.skipIf(notLinux !== undefined)('the binding cannot load', () => {
  describe(`the permission model without --allow-addons (${permissionFlags({ addons: false, worker: false }).join(' ')})`, () => {
    let run: ChildRun
    beforeAll(async () => {
      run = await runNode([...permissionFlags({ addons: false, worker: false }), NO_BINARY], {
        cwd: dirname(NO_BINARY),
        timeoutMs: CHILD_TIMEOUT_MS,
        env: envWith(),
      })
    }, CHILD_TIMEOUT_MS + 5_000)

    it('unsupported, with the reason in exactly one warning; every call a no-op', () => {
      expectNoBinding('no-binary.mjs, addons disallowed', run)
    })

    it('the reason is the one that holds: addons are disabled (not a lock, not TMPDIR)', () => {
      const reason = expectNoBinding('no-binary.mjs, addons disallowed', run).support.reason
      expect(reason).toMatch(/addon/i)
      expect(reason).not.toMatch(/TMPDIR|lock/)
    })
  })

  describe('ffi-rs not resolvable (the core installed without it)', () => {
    let project: string
    beforeAll(() => {
      project = coreWithoutFfi()
    })
    afterAll(() => rmSync(project, { recursive: true, force: true }))

    it(
      'unsupported, naming ffi-rs, in exactly one warning; every call a no-op',
      async () => {
        // pnpm's bin shims put its hoisted store (which has ffi-rs) on NODE_PATH: an app has no such thing.
        const env = envWith({ NODE_PATH: '' })
        // The premise: from the copied core, in the child's environment, ffi-rs resolves nowhere.
        const core = join(project, 'node_modules', '@tcp-user-timeout', 'core')
        const premise = await runNode(['-e', `require.resolve('ffi-rs', { paths: [${JSON.stringify(core)}] })`], {
          cwd: project,
          timeoutMs: CHILD_TIMEOUT_MS,
          env,
        })
        expect(premise.stderr, describeChild('resolving ffi-rs from the copied core', premise)).toContain(
          "Cannot find module 'ffi-rs'",
        )
        const run = await runNode(['no-binary.mjs'], { cwd: project, timeoutMs: CHILD_TIMEOUT_MS, env })
        const { support } = expectNoBinding('no-binary.mjs, ffi-rs not installed', run)
        expect(support.reason).toMatch(/ffi-rs/)
        expect(support.reason).toMatch(/not installed|not resolvable/)
      },
      CHILD_TIMEOUT_MS + 5_000,
    )
  })
})
