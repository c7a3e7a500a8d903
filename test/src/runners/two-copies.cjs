'use strict'
// Two physical copies of the core in one process, as a package manager
// installs them when an app and one of its dependencies ask for different
// versions: <app>/node_modules/@tcp-user-timeout/core (copy A) and
// <app>/node_modules/other-lib/node_modules/@tcp-user-timeout/core (copy B).
// Each copy's scope is read back through the other copy, in both load
// orders (the copy loaded last wraps Node's functions outermost today).
// Usage: node two-copies.cjs <app dir> <a-first | b-first> <units: [{ index, scope, read, seconds }]>
const { createRequire } = require('node:module')
const path = require('node:path')
const { probe, report } = require('./probe.cjs')

const [app, order, unitsJson] = process.argv.slice(2)
const units = JSON.parse(unitsJson)
const fromApp = createRequire(path.join(app, 'app.js'))
const fromLib = createRequire(path.join(app, 'node_modules', 'other-lib', 'index.js'))
const load = {
  A: () => fromApp('@tcp-user-timeout/core'),
  B: () => fromApp('other-lib'),
}
const copies = order === 'b-first' ? { B: load.B(), A: load.A() } : { A: load.A(), B: load.B() }
const { A, B } = copies

async function main() {
  // Harness: two distinct copies, both from the scratch app.
  report({
    index: 0,
    loaded: Object.keys(copies),
    distinct: A !== B,
    files: [fromApp.resolve('@tcp-user-timeout/core'), fromLib.resolve('@tcp-user-timeout/core')],
    versions: [
      fromApp('@tcp-user-timeout/core/package.json').version,
      fromLib('@tcp-user-timeout/core/package.json').version,
    ],
  })
  for (const u of units) {
    const result = await probe({
      withTimeout: copies[u.scope].withTimeout,
      getUserTimeout: copies[u.read].getUserTimeout,
      seconds: u.seconds,
    })
    report({ ...u, ...result })
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
