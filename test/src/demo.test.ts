import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { canUseNetns } from '@tcp-user-timeout/test-utils/netns'
import { netnsGate } from './helpers/namespaces.js'

// The README's demo, run as a user runs it, so it cannot rot. Its app is an
// Express app, protected in the second run by the Express adapter
// (`app.use(tcpUserTimeout({ seconds: 2 }))`). It exits 0 only when the
// unprotected request was still hanging at its cap and the protected one
// failed with ETIMEDOUT and its socket was reclaimed.

const demo = fileURLToPath(new URL('../../examples/demo/demo.mjs', import.meta.url))
const netns = canUseNetns()
const { skip: skipPartition } = netnsGate('demo', 'partition mode', netns)

function runDemo(mode: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [demo, `--mode=${mode}`], { timeout: 60_000 }, (error, stdout) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout })
    })
  })
}

/** Run 1 has no middleware, run 2 the adapter; the table reads the bound back from the upstream socket. */
function expectExpressRuns(stdout: string) {
  expect(stdout).toMatch(/^run 1\/2: without protection \(no middleware\)$/m)
  expect(stdout).toMatch(/^run 2\/2: with app\.use\(tcpUserTimeout\(\{ seconds: 2 \}\)\)$/m)
  expect(stdout).toMatch(/^upstream TCP_USER_TIMEOUT +\| 0 = none \(Linux retries ~15 min\) +\| 2000 ms$/m)
}

describe.concurrent('examples/demo', () => {
  it('wedge mode: unprotected hangs past the cap, protected fails fast with ETIMEDOUT', async () => {
    const { code, stdout } = await runDemo('wedge')
    expectExpressRuns(stdout)
    expect(stdout).toMatch(/still hanging after \d+ s/)
    expect(stdout).toMatch(/ETIMEDOUT/)
    expect(stdout).toMatch(/^PASS/m)
    expect(code).toBe(0)
  })

  it.skipIf(skipPartition)('partition mode (root, network namespace): the same against a dead peer', async () => {
    if (!netns.ok) throw new Error(`network namespaces are required here (CI is set): ${netns.reason}`)
    const { code, stdout } = await runDemo('partition')
    expect(stdout).toMatch(/^How the upstream stops answering here \(partition: /m)
    expectExpressRuns(stdout)
    expect(stdout).toMatch(/^PASS/m)
    expect(code).toBe(0)
  })
})
