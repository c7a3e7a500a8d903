// The Nest app on @nestjs/platform-fastify, with a kernel-enforced
// TCP_USER_TIMEOUT on every socket a request uses.
//
//   node dist/fastify.js                 listens on 127.0.0.1:3000 (PORT to change it)
//   UPSTREAM_URL=http://host:port node dist/fastify.js   call that upstream instead of the built-in one

import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify'
import { tcpUserTimeout } from '@tcp-user-timeout/fastify'
import { support } from '@tcp-user-timeout/core'
import { exitOnSignals, upstreamFromEnv } from '../../shared/upstream.mjs'
import { AppModule } from './app.module.js'
import { BUDGET_HEADER } from './upstream.token.js'

const PORT = Number(process.env.PORT ?? 3000)

// Started before any request: its sockets are boot sockets, which no request scope touches.
const upstream = await upstreamFromEnv()

const app = await NestFactory.create<NestFastifyApplication>(
  AppModule.forUpstream(upstream.url),
  new FastifyAdapter(),
  { logger: ['error', 'warn'] },
)

// Registered, and awaited, before Nest declares the controllers' routes (at
// listen): the plugin then reads each route's `@RouteConfig({ tcpUserTimeout })`
// as it is declared, and its onRequest hook opens the scope that body
// parsing, guards, interceptors and the handler run in.
await app.register(tcpUserTimeout, { seconds: 25, header: BUDGET_HEADER })

try {
  await app.listen(PORT, '127.0.0.1')
} catch (err) {
  console.error(`nestjs fastify example: cannot listen on 127.0.0.1:${PORT}: ${(err as Error).message}`)
  process.exit(1)
}
const why = support().supported ? '' : ` (TCP_USER_TIMEOUT not set here: ${support().reason})`
// One line, parsed by the repository's tests: keep its shape.
console.log(`nestjs fastify example listening on ${await app.getUrl()} (upstream ${upstream.url})${why}`)

// app.close() closes Fastify, which waits for requests in flight.
exitOnSignals('nestjs fastify', async () => {
  await app.close()
  upstream.close()
})
