// How often V8 collects while an adapter scenario serves, counted natively
// (no valgrind): the major GCs (mark-compact) and scavenges per `n`
// keep-alive requests, from V8's own --trace-gc lines. A diagnostic for the
// instruction counts: where a scenario promotes enough to need a major GC
// every few thousand requests, whether one falls inside the 1,000 counted
// units decides about 100,000 instructions per unit, both ways.
//
//   node instructions/gc-census.mjs <framework> <none|als|ours> [n=20000]     a name of FRAMEWORKS
//   node instructions/gc-census.mjs fetch <none|als|scoped> [n=20000]     keep-alive fetch exchanges
import { AsyncLocalStorage } from 'node:async_hooks'
import { spawnSync } from 'node:child_process'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { startApp } from '../http/variants.mjs'

const [framework, variant, n = '20000', child] = process.argv.slice(2)
if (child === undefined) {
  const flags = ['--predictable', '--single-threaded', '--expose-gc', '--trace-gc']
  const run = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), framework, variant, n, 'child'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  })
  if (run.status !== 0) {
    console.error(run.stderr || run.stdout)
    process.exit(run.status ?? 1)
  }
  const count = (kind) => run.stdout.split('\n').filter((line) => line.includes(kind)).length
  console.log(
    `${framework} ${variant} (node ${process.version}): ${count('Mark-Compact')} ` +
      `mark-compacts, ${count('Scavenge')} scavenges ` +
      `in ${n} ${framework === 'fetch' ? 'exchanges' : 'requests'} (start-up and one final forced GC included)`,
  )
} else if (framework === 'fetch') {
  const server = http.createServer((_req, res) => res.end('ok'))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}/`
  const { withTimeout } = await import('@tcp-user-timeout/core')
  const als = new AsyncLocalStorage()
  const exchange = async () => (await fetch(url)).text()
  const inVariant = { none: (fn) => fn(), als: (fn) => als.run({}, fn), scoped: (fn) => withTimeout(10, fn) }[variant]
  if (inVariant === undefined) throw new Error(`fetch: unknown variant ${variant}; one of none, als, scoped`)
  for (let i = 0; i < Number(n); i++) await inVariant(exchange)
  globalThis.gc()
  process.exit(0)
} else {
  const app = await startApp(framework, variant, 'ok')
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  for (let i = 0; i < Number(n); i++) {
    await new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: app.port, agent }, (res) => res.resume().on('end', resolve))
        .on('error', reject)
    })
  }
  globalThis.gc()
  agent.destroy()
  process.exit(0)
}
