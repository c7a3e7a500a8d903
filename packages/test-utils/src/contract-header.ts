import { beforeAll, describe, it } from 'vitest'
import { currentTimeout } from '@tcp-user-timeout/core'
import { get, startApp } from './app.js'
import { rawGet } from './client.js'
import type { AdapterHarness, AdapterOptions, NeutralRequest, RunningApp } from './harness.js'
import { httpGet } from './http-get.js'
import { ownPools } from './pools.js'
import { orNull } from './probe.js'
import { perSuite } from './teardown.js'
import { startUpstream } from './upstream.js'

const HEADER = 'x-request-timeout-s'

interface Seen {
  /** The header as the handler received it, and how many lines carried it. */
  header: string | null
  lines: number
  timeout: number | null
  http: number | null
}

function countLines(rawHeaders: string[], name: string): number {
  let lines = 0
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) lines++
  return lines
}

/**
 * One app per header format, shared by the tests of its describe: requests
 * are independent, and a malformed one must leave the app serving the next.
 */
function headerApp<Req>(harness: AdapterHarness<Req>, name: string, options: AdapterOptions<Req>): () => RunningApp {
  const t = perSuite()
  let app: RunningApp | undefined
  beforeAll(async () => {
    const { origin } = await startUpstream(t)
    const { agent } = ownPools(t)
    app = await startApp(t, harness, {
      use: [options],
      routes: [
        get('/budget', async ({ headers, rawHeaders }: NeutralRequest) => {
          const value = headers[name]
          const exchange = await httpGet(`${origin}/budget`, { agent })
          return {
            header: value === undefined ? null : String(value),
            lines: countLines(rawHeaders, name),
            timeout: orNull(currentTimeout()),
            http: orNull(exchange.inFlight),
          } satisfies Seen
        }),
      ],
    })
  })
  return () => app!
}

const seen = (header: string | null, ms: number, lines = header === null ? 0 : 1): Seen => ({
  header,
  lines,
  timeout: ms,
  http: ms,
})

/**
 * A client's deadline header can only tighten the route's budget (a client
 * must not lengthen what the server allows), and nothing a client sends
 * breaks the request.
 */
export function headerContract<Req>(harness: AdapterHarness<Req>): void {
  describe(`header '${HEADER}' (seconds), configured 25 s`, { concurrent: true }, () => {
    const app = headerApp(harness, HEADER, { seconds: 25, header: HEADER })

    it.for([
      ['3', 3000],
      ['2.5', 2500],
      ['8.14', 8140], // as seconds: 8.14 gives it (rounding up made it 8141)
      ['0.5', 1000], // floored at minSeconds (default 1)
      ['100', 25000], // never extends
      ['25', 25000],
    ] as const)('%s → %i ms', async ([value, ms], ctx) => {
      const res = await app().client.get('/budget').set(HEADER, value).expect(200)
      ctx.expect(res.body).toEqual(seen(value, ms))
    })

    it.for(MALFORMED_HEADER_VALUES)(
      '%s: the configured budget, status 200, and the app serves the next request',
      async ([, value], ctx) => {
        let request = app().client.get('/budget')
        if (value !== undefined) request = request.set(HEADER, value)
        const res = await request.expect(200)
        ctx.expect(res.body).toEqual(seen(value ?? null, 25000))
        ctx.expect((await app().client.get('/budget').set(HEADER, '3').expect(200)).body).toEqual(seen('3', 3000))
      },
    )

    it('repeated (two header lines): the configured budget', async (ctx) => {
      // Node sends an array value as one line per element: the handler's
      // rawHeaders prove both lines arrived (Node joins them in `headers`).
      const res = await rawGet(`${app().origin}/budget`, { [HEADER]: ['3', '5'] })
      ctx.expect(res.status).toBe(200)
      ctx.expect(JSON.parse(res.body)).toEqual(seen('3, 5', 25000, 2))
      ctx.expect((await app().client.get('/budget').set(HEADER, '3').expect(200)).body).toEqual(seen('3', 3000))
    })
  })

  describe(`header '${HEADER}' with minSeconds 2`, { concurrent: true }, () => {
    const app = headerApp(harness, HEADER, { seconds: 25, header: HEADER, minSeconds: 2 })

    it.for([
      ['0.5', 2000],
      ['1', 2000],
      ['3', 3000],
    ] as const)('%s → %i ms', async ([value, ms], ctx) => {
      ctx.expect((await app().client.get('/budget').set(HEADER, value).expect(200)).body).toEqual(seen(value, ms))
    })
  })

  describe("headerFormat 'milliseconds'", { concurrent: true }, () => {
    const name = 'x-request-timeout-ms'
    const app = headerApp(harness, name, { seconds: 25, header: name, headerFormat: 'milliseconds' })

    it.for([
      ['1500', 1500],
      ['500', 1000], // floor
      ['100000', 25000], // never extends
      ['1.5', 25000], // malformed in this format
      ['-5', 25000],
    ] as const)('%s → %i ms', async ([value, ms], ctx) => {
      ctx.expect((await app().client.get('/budget').set(name, value).expect(200)).body).toEqual(seen(value, ms))
    })
  })

  describe("headerFormat 'grpc-timeout'", { concurrent: true }, () => {
    const name = 'grpc-timeout'
    const app = headerApp(harness, name, { seconds: 25, header: name, headerFormat: 'grpc-timeout' })

    it.for([
      ['100m', 1000], // floor
      ['5S', 5000],
      ['3000000u', 3000],
      ['1H', 25000], // never extends
      ['2M', 25000],
      ['5', 25000], // no unit: malformed
      ['5s', 25000], // units are case-sensitive
      ['123456789S', 25000], // more than 8 digits
      ['0S', 25000],
    ] as const)('%s → %i ms', async ([value, ms], ctx) => {
      ctx.expect((await app().client.get('/budget').set(name, value).expect(200)).body).toEqual(seen(value, ms))
    })
  })
}

/** Header values that must all leave the configured budget in force (shared with core's policy tests). */
export const MALFORMED_HEADER_VALUES: readonly (readonly [label: string, value: string | undefined])[] = [
  ['missing', undefined],
  ['empty', ''],
  ['non-numeric', 'abc'],
  ['negative', '-1'],
  ['zero', '0'],
  ['NaN', 'NaN'],
  ['Infinity', 'Infinity'],
  ['1e400', '1e400'],
  ['99999999999', '99999999999'],
  ['hex', '0x10'],
  ['10 KB of digits', '9'.repeat(10_240)],
]
