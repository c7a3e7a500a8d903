// How ffi-rs failing is contained, in a child process of workers.test.ts
// (argv[2]):
// - library-closed: after a working first use, ffi-rs's table loses the
//   library (another user of ffi-rs closing it): ffi-rs then throws inside
//   load(), which must come out as errno EIO (a coded SocketOptionError on
//   explicit calls, a counted error on implicit binds), never as ffi-rs's
//   own exception.
// (A missing or unwritable TMPDIR is no failure at all: the first use needs
// no writable filesystem. hosts/tmpdir.test.ts holds that.)
import net from 'node:net'
import { createRequire } from 'node:module'

const mode = process.argv[2]
const warnings = []
process.on('warning', (w) => w.code?.startsWith('TUT_') && warnings.push(w.code))
const core = await import('@tcp-user-timeout/core')
const server = net.createServer((s) => s.on('error', () => {}).resume())
await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
const port = server.address().port
const result = { mode, support: core.support() }

const connect = (fn) =>
  new Promise((resolve, reject) => {
    const socket = fn()
    const timer = setTimeout(() => reject(new Error('connect timed out')), 5_000)
    socket.once('connect', () => resolve(clearTimeout(timer) ?? socket)).once('error', reject)
  })
const attempt = (fn) => {
  try {
    return { value: fn() ?? null }
  } catch (error) {
    return { code: error.code, errnoName: error.errnoName, name: error.name }
  }
}

try {
  if (mode === 'library-closed') {
    const ffi = createRequire(createRequire(import.meta.url).resolve('@tcp-user-timeout/core'))('ffi-rs')
    ffi.close('tcp-user-timeout:libc')
    const socket = await connect(() => net.connect(port, '127.0.0.1'))
    result.explicitSet = attempt(() => core.setUserTimeout(socket, 1000))
    result.explicitGet = attempt(() => core.getUserTimeout(socket))
    const before = core.stats().errors
    const scoped = await connect(() => core.withTimeout(3, () => net.connect(port, '127.0.0.1')))
    result.implicitErrors = core.stats().errors - before
    socket.destroy()
    scoped.destroy()
  } else {
    throw new Error(`unknown mode ${mode}`)
  }
} finally {
  await new Promise((resolve) => server.close(resolve))
}
await new Promise((resolve) => setImmediate(resolve))
result.warnings = warnings
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
