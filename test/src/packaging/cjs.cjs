// `require()`s every packed package (their CommonJS builds), as a CommonJS app
// does; then imports the ESM core into the same process: both builds must
// share one state (scopes, global default, counters, hooks).
const assert = require('node:assert/strict')

async function main() {
  const { checkBehaviour, checkExports, report, spec, bindOneSocket } = await import('./checks.mjs')
  const mods = {}
  const names = {}
  for (const pkg of spec.packages) {
    mods[pkg.name] = require(pkg.name)
    names[pkg.name] = checkExports('CJS', mods[pkg.name], pkg)
  }
  const resolved = Object.fromEntries(spec.packages.map((p) => [p.name, require.resolve(p.name)]))
  const { support, bindCalls } = await checkBehaviour('CJS', mods)

  // The dual-package hazard: the ESM build, loaded next to the CJS one.
  const cjs = mods['@tcp-user-timeout/core']
  const esm = await import('@tcp-user-timeout/core')
  assert.notEqual(esm.withTimeout, cjs.withTimeout, 'two builds are loaded (otherwise this proves nothing)')
  assert.equal(cjs.withTimeout(4, () => esm.currentTimeout()), 4000, 'a scope opened by the CJS build is seen by the ESM build')
  assert.equal(esm.withTimeout(6, () => cjs.currentTimeout()), 6000, 'a scope opened by the ESM build is seen by the CJS build')
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
  mods['@tcp-user-timeout/express'].tcpUserTimeout({ seconds: 8 })(fakeRequest(), {}, () => (seen = esm.currentTimeout()))
  assert.equal(seen, 8000, 'the CJS express middleware scope is seen by the ESM core')

  esm.setGlobalDefault(60)
  assert.equal(cjs.globalDefault(), 60_000, 'setGlobalDefault (ESM) -> globalDefault (CJS)')
  esm.setGlobalDefault(null)
  assert.equal(cjs.globalDefault(), undefined, 'setGlobalDefault(null) (ESM) -> globalDefault (CJS)')
  assert.deepEqual(esm.stats(), cjs.stats(), 'one set of counters')
  assert.equal(esm.installed(), cjs.installed(), 'one set of hooks')
  // Two sets of hooks would bind the socket twice: the same count as one build.
  const dualBindCalls = await bindOneSocket('CJS+ESM', esm)
  report({ names, support, bindCalls, dualBindCalls, resolved })
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
