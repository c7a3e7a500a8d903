// Shared by the scripts the packaging test runs in its scratch project (copied
// there next to them). They load the packed packages exactly as a user's app
// does, so nothing here may import from the workspace.
import assert from 'node:assert/strict'
import net from 'node:net'
import { readFileSync } from 'node:fs'

/** The expectations the test wrote next to the scripts (see packaging.test.ts). */
export const spec = JSON.parse(readFileSync(new URL('./spec.json', import.meta.url), 'utf8'))

/** The export names of a module, as a user sees them (the CJS interop marker left out). */
export function exportNames(mod) {
  return Object.keys(mod)
    .filter((k) => k !== '__esModule')
    .sort()
}

/** Every export the spec lists is there, and of the right kind, and nothing else is. */
export function checkExports(label, mod, pkg) {
  const where = (name) => `${label} ${pkg.name}: export ${name}`
  const listed = [
    ...(pkg.functions ?? []),
    ...Object.keys(pkg.errors ?? {}),
    ...(pkg.objects ?? []),
    ...Object.keys(pkg.values ?? {}),
    ...(pkg.defaultIs === undefined ? [] : ['default']),
  ].sort()
  assert.deepEqual(exportNames(mod), listed, `${label} ${pkg.name}: the exports are exactly the listed ones`)
  for (const name of pkg.absent ?? []) assert.ok(!(name in mod), `${where(name)}: internal, must not be exported`)
  for (const name of pkg.functions ?? []) {
    assert.ok(name in mod, `${where(name)} is missing`)
    assert.equal(typeof mod[name], 'function', `${where(name)} is ${typeof mod[name]}, expected a function`)
  }
  for (const [name, { base, code }] of Object.entries(pkg.errors ?? {})) {
    assert.ok(name in mod, `${where(name)} is missing`)
    const Ctor = mod[name]
    assert.equal(typeof Ctor, 'function', `${where(name)} is not a class`)
    const error = new Ctor('setsockopt', 'TCP_USER_TIMEOUT', 9)
    assert.ok(error instanceof globalThis[base], `${where(name)}: an instance is not a ${base}`)
    assert.equal(error.code, code, `${where(name)}: .code`)
    assert.equal(error.name, name, `${where(name)}: .name`)
  }
  for (const name of pkg.objects ?? []) {
    assert.ok(name in mod, `${where(name)} is missing`)
    assert.ok(
      typeof mod[name] === 'object' && mod[name] !== null,
      `${where(name)} is ${typeof mod[name]}, expected an object`,
    )
  }
  for (const [name, value] of Object.entries(pkg.values ?? {})) {
    assert.ok(name in mod, `${where(name)} is missing`)
    assert.deepEqual(mod[name], value, `${where(name)}`)
  }
  if (pkg.defaultIs !== undefined) {
    assert.equal(mod.default, mod[pkg.defaultIs], `${label} ${pkg.name}: the default export is not ${pkg.defaultIs}`)
  }
  return exportNames(mod)
}

/**
 * What one build of the packages does, beyond its export list: scopes,
 * errors of the core the adapters share (not a bundled copy), the adapters'
 * shapes, and a real socket bound through the native setsockopt.
 * `mods` maps each package name to the module the script loaded.
 */
export async function checkBehaviour(label, mods) {
  const core = mods['@tcp-user-timeout/core']
  const adapter = mods['@tcp-user-timeout/core/adapter']
  assert.equal(core.currentTimeout(), undefined, `${label}: currentTimeout() outside a scope`)
  assert.equal(
    core.withTimeout(2, () => core.currentTimeout()),
    2000,
    `${label}: withTimeout(2, fn) -> currentTimeout()`,
  )
  const promise = core.withTimeout(3, async () => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    return core.currentTimeout()
  })
  assert.ok(promise instanceof Promise, `${label}: withTimeout(s, async fn) returns a promise`)
  assert.equal(await promise, 3000, `${label}: the scope survives an await`)
  assert.equal(core.headroom(30), 25, `${label}: headroom(30)`)
  assert.equal(
    core.withJobTimeout(30, () => core.currentTimeout()),
    25_000,
    `${label}: withJobTimeout(30)`,
  )
  // The adapter entry is the same build as the main one, not a copy of it:
  // its errors are the main entry's very class, its scopes the main entry's.
  assert.throws(
    () => adapter.createPolicy({ seconds: 'x' }),
    (e) => e.constructor === core.InvalidOptionError && e.code === 'TUT_ERR_INVALID_OPTION',
    `${label}: createPolicy rejects a bad option with the main entry's own class`,
  )
  const policy = adapter.createPolicy({ seconds: 9, minSeconds: 1 })
  assert.equal(
    adapter.runInScope(policy.resolve({}), () => core.currentTimeout()),
    9000,
    `${label}: a scope of the adapter entry, read by the main entry`,
  )
  assert.equal(
    await adapter.runUntilSettled(policy.resolve({}, 2000), async () => core.currentTimeout()),
    2000,
    `${label}: an asked budget tightens`,
  )
  const stats = core.stats()
  for (const key of ['bound', 'timedOut', 'errors', 'setsockoptCalls', 'hardened', 'reaped']) {
    assert.equal(typeof stats[key], 'number', `${label}: stats().${key}`)
  }
  const support = core.support()
  assert.equal(typeof support.supported, 'boolean', `${label}: support().supported`)
  if (process.platform === 'linux') {
    // ffi-rs and its native binary came with the packed core's dependencies.
    assert.equal(support.supported, true, `${label}: support() on Linux: ${JSON.stringify(support)}`)
    assert.equal(core.installed(), true, `${label}: the client hooks are installed at import`)
  }

  // The adapters of HTTP frameworks (spec.adapters: their app fixtures' facts); their apps run in use.mjs.
  for (const { package: name, kind, exports } of spec.adapters) {
    const adapter = mods[name]
    if (adapter === undefined || kind !== 'http') continue
    if (exports.functions.includes('hardenServer')) {
      assert.equal(adapter.hardenServer, core.hardenServer, `${label} ${name}: hardenServer is the core's own`)
    }
    if (!exports.functions.includes('override')) continue
    assert.equal(typeof adapter.override(false), 'function', `${label} ${name}: override(false) is a route middleware`)
    assert.throws(
      () => adapter.override({ seconds: -1 }),
      (e) => e instanceof core.InvalidOptionError && e.code === 'TUT_ERR_INVALID_OPTION',
      `${label} ${name}: a bad option throws the core's InvalidOptionError ` +
        `(the adapter shares the core, it does not bundle a copy)`,
    )
  }
  const grpcAdapter = mods['@tcp-user-timeout/grpc-js']
  if (grpcAdapter !== undefined) {
    // The application's own @grpc/grpc-js (the peer): its credentials class, kept.
    const grpc = (await import('@grpc/grpc-js')).default
    const insecure = grpc.credentials.createInsecure()
    const pinned = grpcAdapter.withUserTimeout(insecure, { userTimeoutSeconds: 5 })
    assert.ok(
      pinned instanceof grpc.ChannelCredentials && !pinned._equals(insecure),
      `${label} grpc-js: withUserTimeout() gives the app's ChannelCredentials, not equal to the unpinned ones`,
    )
    assert.notEqual(
      grpcAdapter.hardenServer,
      core.hardenServer,
      `${label} grpc-js: hardenServer is its own, for a grpc-js Server`,
    )
    const invalid = (e) => e instanceof core.InvalidOptionError && e.code === 'TUT_ERR_INVALID_OPTION'
    assert.throws(
      () => grpcAdapter.tcpUserTimeout({}, { seconds: -1 }),
      invalid,
      `${label} grpc-js: tcpUserTimeout() rejects a bad option with the core's InvalidOptionError`,
    )
    assert.throws(
      () => grpcAdapter.withUserTimeout(insecure, { userTimeoutSeconds: 0 }),
      invalid,
      `${label} grpc-js: withUserTimeout() too`,
    )
    assert.throws(
      () => grpcAdapter.hardenServer(new grpc.Server(), { userTimeoutSeconds: 0 }),
      invalid,
      `${label} grpc-js: hardenServer() too`,
    )
  }
  const fastify = mods['@tcp-user-timeout/fastify']
  if (fastify !== undefined) {
    const meta = fastify.tcpUserTimeout[Symbol.for('plugin-meta')]
    assert.equal(meta?.name, '@tcp-user-timeout/fastify', `${label} fastify: fastify-plugin metadata`)
    assert.equal(fastify.tcpUserTimeout[Symbol.for('skip-override')], true, `${label} fastify: not encapsulated`)
  }
  return { support, bindCalls: await bindOneSocket(label, core) }
}

/** A socket connected in a 5 s scope gets TCP_USER_TIMEOUT = 5000; returns the setsockopt calls that took. */
export async function bindOneSocket(label, core) {
  if (!core.support().supported) return null
  const server = net.createServer((s) => s.on('error', () => {}))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const before = core.stats().setsockoptCalls
  const socket = core.withTimeout(5, () => net.connect(port, '127.0.0.1'))
  try {
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(
      core.getUserTimeout(socket),
      5000,
      `${label}: a socket connected in withTimeout(5) has TCP_USER_TIMEOUT 5000`,
    )
    return core.stats().setsockoptCalls - before
  } finally {
    socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
}

/** The one line the test reads. */
export function report(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
}
