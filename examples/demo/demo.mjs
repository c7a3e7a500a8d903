#!/usr/bin/env node
// An Express 5 app whose handler calls an upstream that goes dark, run twice:
// once as is (no middleware), once with the adapter in front of its routes
// (`app.use(tcpUserTimeout({ seconds: 2 }))` from @tcp-user-timeout/express).
// Prints how long each request hung, what the caller got, and whether the
// upstream socket was reclaimed.
//
//   node demo.mjs                 partition mode when root with `ip netns`, else wedge mode
//   node demo.mjs --mode=wedge    force the write-side wedge (no root needed)
//   node demo.mjs --mode=partition  force the dead-peer partition (fails without root)
//   --cap=8      seconds after which the demo cuts a hanging request off
//   --seconds=2  the budget given to tcpUserTimeout({ seconds })
//
// Exit code 0 when the protected request failed fast with ETIMEDOUT and the
// unprotected one was still hanging at the cap; 1 otherwise; 2 on bad usage.
// The plumbing (the dead upstream, the namespace, the printing) is in lib/.
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { stats } from '@tcp-user-timeout/core'
import { tcpUserTimeout } from '@tcp-user-timeout/express'
import { createApp, loadFramework } from '@tcp-user-timeout/test-utils/apps'
import { callApp } from './lib/caller.mjs'
import { chooseMode, parentNetwork, runParent } from './lib/namespace.mjs'
import { BUDGET_S, CAP_S, OPTIONS } from './lib/options.mjs'
import { out, printHeader, printTable, timeline, verdict } from './lib/print.mjs'
import { fdOf, MAX_CHUNKS, socketFate, startUpstream } from './lib/upstream.mjs'

/**
 * The application: an Express app whose route needs the upstream to answer.
 * The only difference between the two runs is the middleware in front of
 * the routes: with it, every socket the request uses (here the upstream
 * call's) gets TCP_USER_TIMEOUT = seconds * 1000.
 */
function startApp({ protect, upstream, network, log }) {
  return createApp('express', {
    // The one line this demo is about (the protected run only):
    use: protect ? (app) => app.use(tcpUserTimeout({ seconds: BUDGET_S })) : undefined,
    routes: [{ method: 'GET', path: '/quote', handler: quote }],
  })

  async function quote(_req, res) {
    try {
      const answer = await upstream.call()
      res.type('json')
      return answer
    } catch (err) {
      upstream.state.error = err.code ?? err.message
      upstream.state.errorAt = performance.now()
      log(`app: upstream call failed: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '))
      // Demo only: the partition also cut the caller off; bring the network
      // back so the caller can hear the 504.
      if (network) await network.heal().catch((e) => log(`could not heal the network: ${e.message}`))
      res.status(504).type('text')
      return `upstream failed: ${err.code ?? err.message}\n`
    }
  }
}

/**
 * One run: an upstream, the app that calls it, a caller that calls the app.
 * Resolves with what the caller saw and what became of the upstream socket.
 */
async function runOnce({ mode, network, protect, log, t0, stop }) {
  const before = stats()
  const upstream = await startUpstream(mode, network, log)
  const app = await startApp({ protect, upstream, network, log })
  const { outcome, req } = await callApp(app.port, CAP_S, log)
  const fate = socketFate(upstream.state) // before any cleanup
  const after = stats()
  const { error, errorAt, darkAt, boundMs } = upstream.state

  // Cleanup: everything this run opened, then the network back up (the
  // errors the cleanup itself causes are not part of the story).
  stop()
  req?.destroy()
  upstream.state.socket?.destroy()
  app.close()
  upstream.close()
  if (network) await network.heal()

  return {
    ...fate,
    hanging: outcome.hanging === true,
    elapsed: outcome.at - t0,
    status: outcome.status ?? null,
    statusText: outcome.statusText ?? null,
    callerError: outcome.callerError ?? null,
    upstreamError: error,
    errorAfterDark: errorAt !== null && darkAt !== null ? errorAt - darkAt : null,
    boundMs,
    bound: after.bound - before.bound,
    timedOut: after.timedOut - before.timedOut,
  }
}

async function runScenarios(mode, reason, network) {
  if (OPTIONS.inside) reason = process.env.TUT_DEMO_WHY ?? reason
  const watchdog = setTimeout(
    () => {
      process.stderr.write('demo: watchdog fired; the demo overran its time\n')
      process.exit(1)
    },
    (CAP_S * 2 + 30) * 1000,
  )
  watchdog.unref()
  process.once('SIGINT', () => process.exit(130))
  process.once('SIGTERM', () => process.exit(143))

  printHeader({ mode, reason, network, maxChunks: MAX_CHUNKS })
  await loadFramework('express') // before the runs' clocks start
  const runs = []
  for (const protect of [false, true]) {
    const title = protect
      ? `with app.use(tcpUserTimeout({ seconds: ${BUDGET_S} }))`
      : 'without protection (no middleware)'
    out(`run ${runs.length + 1}/2: ${title}`)
    const { t0, log, stop } = timeline(fdOf)
    let result
    try {
      result = await runOnce({ mode, network, protect, log, t0, stop })
    } catch (err) {
      result = { failed: err }
      out(`  the run failed: ${err.stack ?? err}`)
    }
    stop()
    runs.push({ ...result, title })
    out()
  }
  printTable(runs, CAP_S)
  return verdict(runs, CAP_S)
}

if (OPTIONS.inside) {
  // Inside the namespace the parent made: the partition is driven over stdio.
  process.exit(await runScenarios('partition', 'inside the demo namespace', parentNetwork()))
} else {
  const choice = chooseMode(OPTIONS.mode)
  if (choice.mode === 'partition') {
    const code = await runParent({
      script: fileURLToPath(import.meta.url),
      args: ['--inside', `--cap=${CAP_S}`, `--seconds=${BUDGET_S}`],
      reason: choice.reason,
      mandatory: OPTIONS.mode === 'partition',
      watchdogMs: (CAP_S * 2 + 40) * 1000,
      fallback: (why) => runScenarios('wedge', why, null),
    })
    process.exit(code)
  } else {
    process.exit(await runScenarios('wedge', choice.reason, null))
  }
}
