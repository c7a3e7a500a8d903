// `require()`s every packed package (their CommonJS builds), as a CommonJS app
// does; then imports the ESM core into the same process: both builds must
// share one state (scopes, global default, counters, hooks).
const assert = require('node:assert/strict')

async function main() {
  const { checkBehaviour, checkExports, report, spec, bindOneSocket } = await import('./checks.mjs')
  const mods = {}
  const names = {}
  for (const pkg of [...spec.packages, ...spec.entries]) {
    mods[pkg.name] = require(pkg.name)
    names[pkg.name] = checkExports('CJS', mods[pkg.name], pkg)
  }
  const resolved = Object.fromEntries([...spec.packages, ...spec.entries].map((p) => [p.name, require.resolve(p.name)]))
  const { support, bindCalls } = await checkBehaviour('CJS', mods)

  // The dual-package hazard: the ESM build, loaded next to the CJS one.
  const cjs = mods['@tcp-user-timeout/core']
  const esm = await import('@tcp-user-timeout/core')
  assert.notEqual(esm.withTimeout, cjs.withTimeout, 'two builds are loaded (otherwise this proves nothing)')
  assert.equal(
    cjs.withTimeout(4, () => esm.currentTimeout()),
    4000,
    'a scope opened by the CJS build is seen by the ESM build',
  )
  assert.equal(
    esm.withTimeout(6, () => cjs.currentTimeout()),
    6000,
    'a scope opened by the ESM build is seen by the CJS build',
  )
  assert.equal(
    await cjs.withTimeout(7, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return esm.currentTimeout()
    }),
    7000,
    'across an await too',
  )
  // A CJS adapter's scope, read by the ESM core.
  let seen
  mods['@tcp-user-timeout/express'].tcpUserTimeout({ seconds: 8 })(
    fakeRequest(),
    {},
    () => (seen = esm.currentTimeout()),
  )
  assert.equal(seen, 8000, 'the CJS express middleware scope is seen by the ESM core')

  // One set of error classes as far as `instanceof` can tell: an error of
  // either build is an instance of the other build's class, and still of its
  // built-in base.
  const errorNames = []
  for (const [name, { base }] of Object.entries(
    spec.packages.find((p) => p.name === '@tcp-user-timeout/core').errors,
  )) {
    const fromEsm = new esm[name]('setsockopt', 'TCP_USER_TIMEOUT', 9)
    const fromCjs = new cjs[name]('setsockopt', 'TCP_USER_TIMEOUT', 9)
    assert.ok(fromEsm instanceof cjs[name], `an ESM ${name} is instanceof the CJS ${name}`)
    assert.ok(fromCjs instanceof esm[name], `a CJS ${name} is instanceof the ESM ${name}`)
    assert.ok(fromEsm instanceof globalThis[base] && fromCjs instanceof globalThis[base], `${name} is still a ${base}`)
    assert.ok(!(new globalThis[base]('plain') instanceof cjs[name]), `a plain ${base} is not a ${name}`)
    errorNames.push(name)
  }
  // Thrown by the library itself, caught by the other build's class.
  assert.throws(() => esm.setUserTimeout('x', 1000), cjs.InvalidArgumentError)
  assert.throws(() => cjs.setUserTimeout(0, -1), esm.OutOfRangeError)
  const cjsAdapter = mods['@tcp-user-timeout/core/adapter']
  const esmAdapter = await import('@tcp-user-timeout/core/adapter')
  assert.throws(() => cjsAdapter.createPolicy({ seconds: 'x' }), esm.InvalidOptionError)
  assert.throws(() => esmAdapter.createPolicy({ seconds: 'x' }), cjs.InvalidOptionError)
  // The adapter entry of each build shares that one state too.
  assert.equal(
    cjsAdapter.runInScope(esmAdapter.createPolicy({ seconds: 11 }).resolve({}), () => esm.currentTimeout()),
    11000,
    'an ESM adapter-entry scope, run by the CJS adapter entry, seen by the ESM core',
  )

  esm.setGlobalDefault(60)
  assert.equal(cjs.globalDefault(), 60_000, 'setGlobalDefault (ESM) -> globalDefault (CJS)')
  esm.setGlobalDefault(null)
  assert.equal(cjs.globalDefault(), undefined, 'setGlobalDefault(null) (ESM) -> globalDefault (CJS)')
  assert.deepEqual(esm.stats(), cjs.stats(), 'one set of counters')
  assert.equal(esm.installed(), cjs.installed(), 'one set of hooks')
  // Two sets of hooks would bind the socket twice: the same count as one build.
  const dualBindCalls = await bindOneSocket('CJS+ESM', esm)
  report({ names, support, bindCalls, dualBindCalls, resolved, errorNames })
}

// Enough of an IncomingMessage for the middleware (no header option, so no headers read).
function fakeRequest() {
  const { EventEmitter } = require('node:events')
  const req = new EventEmitter()
  req.headers = {}
  req.socket = new EventEmitter()
  return req
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
