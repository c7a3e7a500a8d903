import http from 'node:http'
import { createRequire } from 'node:module'
import type { Dispatcher } from 'undici'
import type { Teardown } from './teardown.js'

const require = createRequire(import.meta.url)

export interface Pools {
  agent: http.Agent
  dispatcher: Dispatcher
}

/**
 * Keep-alive pools of one test's (or one route's) own. A socket's first
 * exchange decides who owns it for good: one opened by unscoped work (a
 * disabled route) is a boot socket that no later scope binds, so routes that
 * differ in that respect must not share a pool.
 */
export function ownPools(t: Teardown, maxSockets = Infinity): Pools {
  // npm undici, loaded only here: its import installs its Agent as the global
  // dispatcher, which a test of Node's bundled undici must not get by
  // importing the kit. A CommonJS package: require() is the module an import gives.
  const { Agent } = require('undici') as typeof import('undici')
  return {
    agent: t.defer(new http.Agent({ keepAlive: true, maxSockets }), (a) => a.destroy()),
    dispatcher: t.defer(new Agent(), (d) => d.destroy()),
  }
}
