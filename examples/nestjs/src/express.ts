// The Nest app on @nestjs/platform-express, with a kernel-enforced
// TCP_USER_TIMEOUT on every socket a request uses.
//
//   node dist/express.js                 listens on 127.0.0.1:3000 (PORT to change it)
//   UPSTREAM_URL=http://host:port node dist/express.js   call that upstream instead of the built-in one

import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import type { NestExpressApplication } from '@nestjs/platform-express'
import { tcpUserTimeout } from '@tcp-user-timeout/express'
import { support } from '@tcp-user-timeout/core'
import { exitOnSignals, upstreamFromEnv } from '../../shared/upstream.mjs'
import { ExpressAppModule } from './express.module.js'
import { BUDGET_HEADER } from './upstream.token.js'

const PORT = Number(process.env.PORT ?? 3000)

// Started before any request: its sockets are boot sockets, which no request scope touches.
const upstream = await upstreamFromEnv()

const app = await NestFactory.create<NestExpressApplication>(ExpressAppModule.forUpstream(upstream.url), {
  logger: ['error', 'warn'],
})

// Right after create: Nest mounts its body parser, the modules' middleware
// and the routes later (at listen), all after this, so all of them run in the
// request's scope. 25 s is below a typical 30 s proxy timeout; a client may
// ask for less with `x-request-timeout-s: 3`, never for more.
app.use(tcpUserTimeout({ seconds: 25, header: BUDGET_HEADER }))

try {
  await app.listen(PORT, '127.0.0.1')
} catch (err) {
  console.error(`nestjs express example: cannot listen on 127.0.0.1:${PORT}: ${(err as Error).message}`)
  process.exit(1)
}
const why = support().supported ? '' : ` (TCP_USER_TIMEOUT not set here: ${support().reason})`
// One line, parsed by the repository's tests: keep its shape.
console.log(
  `nestjs express example listening ` +
    `on ${(await app.getUrl()).replace('[::1]', '127.0.0.1')} (upstream ${upstream.url})${why}`,
)

// app.close() stops the server and lets requests in flight finish.
exitOnSignals('nestjs express', async () => {
  await app.close()
  upstream.close()
})
