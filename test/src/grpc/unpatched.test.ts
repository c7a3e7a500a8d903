/**
 * Where @grpc/grpc-js cannot be patched (not installed, or internals other
 * than 1.13/1.14's), importing @tcp-user-timeout/grpc-js still never
 * throws and says nothing; the first use of the package (tcpUserTimeout or
 * withUserTimeout) says why once, in a TUT_WARN_GRPC_UNPATCHED warning, and
 * the package still works: handlers are scoped, credentials pinned. Each
 * case in a child process (fixtures/unpatched.cjs).
 */
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeChild, resultOf, runNode } from '../helpers/child.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/unpatched.cjs', import.meta.url))
const CWD = fileURLToPath(new URL('../../', import.meta.url))

interface Result {
  atImport: number
  afterService: number
  afterCredentials: number | null
  warnings: { code?: string; message: string }[]
}

async function run(mode: 'absent' | 'internals'): Promise<Result> {
  const r = await runNode([FIXTURE, mode], { cwd: CWD, timeoutMs: 20_000 })
  expect(r.code, describeChild(`node unpatched.cjs ${mode}`, r)).toBe(0)
  return resultOf<Result>(r)!
}

describe.concurrent('grpc-js that cannot be patched', () => {
  it('not installed: the import is silent; tcpUserTimeout() says why once', async () => {
    const r = await run('absent')
    expect(r.atImport).toBe(0)
    expect(r.afterService).toBe(1)
    expect(r.warnings).toEqual([
      {
        code: 'TUT_WARN_GRPC_UNPATCHED',
        message: expect.stringMatching(
          /could not patch @grpc\/grpc-js: @grpc\/grpc-js could not be loaded \(Cannot find module/,
        ),
      },
    ])
  })

  it('other internals: the import is silent; one warning naming what is missing, however often the package is used', async () => {
    const r = await run('internals')
    expect(r.atImport).toBe(0)
    expect(r.afterService).toBe(1)
    expect(r.afterCredentials).toBe(1)
    expect(r.warnings[0]).toEqual({
      code: 'TUT_WARN_GRPC_UNPATCHED',
      message: expect.stringMatching(
        /has no InternalChannel\.prototype\.createResolvingCall\. .*Use @grpc\/grpc-js \^1\.13/,
      ),
    })
  })
})
