// Run in a scratch project installed with `npm install --omit=optional`:
// ffi-rs is there, its native binary (@yuuang/ffi-rs-<platform>) is not. The
// core must say why in support() and in ONE process warning, at start-up: when
// the app builds its middleware (any adapter's, through createPolicy), before
// any request or socket; not at import. Otherwise it is a no-op that never
// throws: scopes still open (currentTimeout() reports their budget), binds
// return false, reads return undefined, servers can be hardened.
// hosts/binding-unavailable.test.ts runs it too, where ffi-rs is not
// resolvable and where the permission model disables addons.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import net from 'node:net'

const CODE = 'TUT_WARN_NATIVE_UNAVAILABLE'
const warnings = []
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }))

const core = await import('@tcp-user-timeout/core')
// Both builds in one process: still one attempt, one warning.
const cjs = createRequire(import.meta.url)('@tcp-user-timeout/core')
await new Promise((resolve) => setImmediate(resolve))
const warnedAtImport = warnings.filter((w) => w.code === CODE).length

// What every adapter does when the app builds its middleware (app.use(tcpUserTimeout(...))).
const { createPolicy } = await import('@tcp-user-timeout/core/adapter')
createPolicy({ seconds: 25 }, 'mine')
createPolicy(false, 'mine')
await new Promise((resolve) => setImmediate(resolve))
const warnedAtBuild = warnings.filter((w) => w.code === CODE).length

const support = core.support()
assert.deepEqual(cjs.support(), support, 'both builds report the same support')

const server = net.createServer((s) => s.on('error', () => {}).resume())
await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
const undo = core.hardenServer(server, { userTimeoutSeconds: 30 })
const socket = core.withTimeout(5, () => net.connect(server.address().port, '127.0.0.1'))
const uses = {}
try {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timed out')), 5_000)
    socket.once('connect', () => resolve(clearTimeout(timer))).once('error', reject)
  })
  uses.scope = core.withTimeout(7, () => core.currentTimeout())
  uses.getUserTimeout = core.getUserTimeout(socket) ?? null
  uses.setUserTimeout = core.setUserTimeout(socket, 1000)
  uses.cjsSetUserTimeout = cjs.setUserTimeout(socket, 1000)
  uses.setKeepAliveProbes = core.setKeepAliveProbes(socket, { idleSeconds: 1, intervalSeconds: 1, count: 1 })
  uses.getKeepAliveProbes = core.getKeepAliveProbes(socket) ?? null
  uses.bound = core.stats().bound
  uses.errors = core.stats().errors
} finally {
  undo()
  socket.destroy()
  await new Promise((resolve) => server.close(resolve))
}
// Warnings are emitted on the next tick: let them out before reporting.
await new Promise((resolve) => setImmediate(resolve))
const ours = warnings.filter((w) => w.code === CODE)
process.stdout.write(`RESULT ${JSON.stringify({ support, warnedAtImport, warnedAtBuild, warnings: ours, uses })}\n`)
