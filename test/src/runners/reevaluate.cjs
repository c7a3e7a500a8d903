'use strict'
// The core's CommonJS build evaluated EVALUATIONS times in one process, as
// tools that clear require.cache do (hot reloaders, test runners without a
// vm), each evaluation checked on every client path with a budget of its own
// (index + 2 seconds) before the next one.
// Usage: node reevaluate.cjs <evaluations>
const fs = require('node:fs')
const path = require('node:path')
const { probe, report } = require('./probe.cjs')

const EVALUATIONS = Number(process.argv[2])
const entry = require.resolve('@tcp-user-timeout/core')
const dist = path.dirname(entry)
// Every module file of the build (entry and chunks): an evaluation leaves none behind.
const modules = fs
  .readdirSync(dist)
  .filter((f) => f.endsWith('.cjs'))
  .map((f) => fs.realpathSync(path.join(dist, f)))

async function main() {
  let previous
  for (let index = 1; index <= EVALUATIONS; index++) {
    for (const file of modules) delete require.cache[file]
    const core = require(entry)
    const seconds = index + 2
    const result = await probe({ withTimeout: core.withTimeout, getUserTimeout: core.getUserTimeout, seconds })
    // fresh: the harness really evaluated the core again.
    report({ index, seconds, fresh: core !== previous, modules: modules.length, ...result })
    previous = core
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
