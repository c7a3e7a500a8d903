import http from 'node:http'
import { Agent as UndiciAgent, type Dispatcher } from 'undici'
import type { Teardown } from './teardown.js'

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
  return {
    agent: t.defer(new http.Agent({ keepAlive: true, maxSockets }), (a) => a.destroy()),
    dispatcher: t.defer(new UndiciAgent(), (d) => d.destroy()),
  }
}
