/**
 * What packaging/no-binary.mjs must report wherever the binding truly cannot
 * load (ffi-rs installed without its binary, ffi-rs not resolvable, addons
 * disabled by the permission model): shared by packaging.test.ts and
 * hosts/binding-unavailable.test.ts. Each caller then checks that the reason
 * names its own cause.
 */
import { expect } from 'vitest'
import { describeChild, resultOf, type ChildRun } from './child.js'

export const NO_BINARY_SCRIPT = new URL('../packaging/no-binary.mjs', import.meta.url)

export interface NoBindingResult {
  support: { supported: boolean; reason?: string }
  warnedAtImport: number
  /** Said by then: the app built its middleware (createPolicy), and nothing has used a socket or asked support(). */
  warnedAtBuild: number
  warnings: { name: string; code: string; message: string }[]
  uses: Record<string, unknown>
}

/**
 * Unsupported with a reason, said in exactly one process warning at start-up:
 * when the middleware is built, before any request (not at import; one for
 * both builds), printed once; every call a no-op that never throws, and
 * currentTimeout() still the scope's budget. Returns the report.
 */
export function expectNoBinding(label: string, run: ChildRun): NoBindingResult {
  expect(run.code, describeChild(label, run)).toBe(0)
  const result = resultOf<NoBindingResult>(run)
  expect(result, describeChild(`${label} reported nothing`, run)).toBeDefined()
  const r = result!
  expect(r.support.supported, JSON.stringify(r)).toBe(false)
  expect(r.support.reason).toEqual(expect.any(String))
  expect(r.warnedAtImport).toBe(0)
  expect(r.warnedAtBuild, 'the warning comes when the middleware is built, before any request').toBe(1)
  expect(r.warnings).toHaveLength(1)
  expect(r.warnings[0]).toMatchObject({ name: 'TcpUserTimeoutWarning', code: 'TUT_WARN_NATIVE_UNAVAILABLE' })
  expect(r.warnings[0].message).toContain(r.support.reason)
  expect(run.stderr.match(/TUT_WARN_NATIVE_UNAVAILABLE/g), run.stderr).toHaveLength(1)
  expect(r.uses).toEqual({
    scope: 7000,
    getUserTimeout: null,
    setUserTimeout: false,
    cjsSetUserTimeout: false,
    setKeepAliveProbes: false,
    getKeepAliveProbes: null,
    bound: 0,
    errors: 0,
  })
  return r
}
