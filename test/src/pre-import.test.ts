/**
 * Sockets that existed before the core was imported keep boot semantics: no
 * request scope binds them, exactly like sockets opened after the import
 * outside any scope. Runs in a child process (fixtures/pre-import.mjs),
 * since this test file itself imports the core first.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const fixture = fileURLToPath(new URL('./fixtures/pre-import.mjs', import.meta.url))

interface Seen {
  port: number
  value: number | null
}

it('a node:http agent, global fetch and an npm undici Pool warmed before the import: scoped exchanges over their sockets leave them at 0', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [fixture], { timeout: 20_000 })
  const r = JSON.parse(stdout) as {
    warm: Record<string, Seen>
    scoped: Record<string, Seen>
    boundByScopedOnWarm: number
    fresh: Seen
  }
  for (const client of ['agent', 'fetch', 'pool']) {
    expect(r.scoped[client].port, `${client}: the scoped exchange did not reuse the warm socket`).toBe(
      r.warm[client].port,
    )
    expect(r.scoped[client].value, `${client}: a pre-import socket was bound by a scope`).toBe(0)
  }
  expect(r.boundByScopedOnWarm).toBe(0)
  // The control: the hooks work in that process.
  expect(r.fresh.value).toBe(7000)
})
