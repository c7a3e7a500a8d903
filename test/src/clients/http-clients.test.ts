/**
 * Real HTTP clients (undici's API, undici Pool and Agent, axios over
 * node:http, global fetch through an npm undici dispatcher) against a local
 * server that reads the client socket's TCP_USER_TIMEOUT while each exchange
 * is in flight. The tests are in helpers/http-suite.ts.
 *
 * Importing npm undici installs its Agent as the global dispatcher, which
 * Node's global fetch then uses too: fetch through Node's bundled undici
 * client is in fetch-bundled.test.ts, a file that never imports undici.
 */
import http from 'node:http'
import axios from 'axios'
import { Agent, Pool, request } from 'undici'
import { perSuite, type Teardown } from '@tcp-user-timeout/test-utils'
import { trackClientSockets } from './helpers/http.js'
import { describeHttpClients, type ClientSpec } from './helpers/http-suite.js'

const clientSockets = perSuite().defer(trackClientSockets(), (c) => c.stop())

function undiciAgent(t: Teardown, oneConnection: boolean): Agent {
  return t.defer(new Agent(oneConnection ? { connections: 1 } : {}), (a) => a.close())
}

const specs: ClientSpec[] = [
  {
    name: 'undici request() (global dispatcher, no connection limit)',
    limited: false,
    yieldBetween: true,
    open: (origin) => ({ get: async (path) => (await request(origin + path)).body.text() }),
  },
  {
    name: 'undici Pool',
    limited: true,
    open(origin, oneConnection, t) {
      const pool = t.defer(new Pool(origin, oneConnection ? { connections: 1 } : {}), (p) => p.close())
      return { get: async (path) => (await pool.request({ path, method: 'GET' })).body.text() }
    },
  },
  {
    name: 'undici request() with an Agent as dispatcher',
    limited: true,
    open(origin, oneConnection, t) {
      const dispatcher = undiciAgent(t, oneConnection)
      return { get: async (path) => (await request(origin + path, { dispatcher })).body.text() }
    },
  },
  {
    name: 'axios (http adapter, http.globalAgent)',
    limited: false,
    open: (origin) => ({
      get: async (path) => (await axios.get<string>(origin + path, { adapter: 'http', responseType: 'text' })).data,
    }),
  },
  {
    name: 'axios (http adapter, own keep-alive http.Agent)',
    limited: true,
    open(origin, oneConnection, t) {
      const httpAgent = t.defer(new http.Agent({ keepAlive: true, ...(oneConnection ? { maxSockets: 1 } : {}) }), (a) =>
        a.destroy(),
      )
      return {
        get: async (path) =>
          (await axios.get<string>(origin + path, { adapter: 'http', responseType: 'text', httpAgent })).data,
      }
    },
  },
  {
    name: 'global fetch with an npm undici Agent as dispatcher',
    limited: true,
    open(origin, oneConnection, t) {
      const dispatcher = undiciAgent(t, oneConnection)
      return { get: async (path) => (await fetch(origin + path, { dispatcher } as unknown as RequestInit)).text() }
    },
  },
]

describeHttpClients(specs, clientSockets)
