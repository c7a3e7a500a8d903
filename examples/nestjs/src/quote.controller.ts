import http from 'node:http'
import { Body, Controller, Get, HttpException, Inject, Post } from '@nestjs/common'
import { RouteConfig } from '@nestjs/platform-fastify'
import { currentTimeout, getUserTimeout } from '@tcp-user-timeout/core'
import { callUpstream, failure } from '../../shared/upstream.mjs'
import { BUDGET_HEADER, UPSTREAM_URL } from './upstream.token.js'

/**
 * The same controller serves both platforms. Each handler calls the upstream
 * and answers with the budget in effect (`currentTimeout()`), read after the
 * await: the request's scope follows it through Nest's pipeline.
 *
 * The per-route policies: on Fastify, `@RouteConfig` puts `tcpUserTimeout`
 * in the route's config, which the plugin reads; on Express the decorator is
 * inert and ExpressAppModule applies `override()` to the same routes.
 */
@Controller()
export class QuoteController {
  constructor(@Inject(UPSTREAM_URL) private readonly upstreamUrl: string) {}

  @Get('quote')
  quote() {
    return this.answer('/quote', '/price')
  }

  // A slow export legitimately waits minutes on its upstream: its own policy
  // replaces the app-wide one, and repeats `header` to keep letting clients
  // tighten it.
  @Get('export')
  @RouteConfig({ tcpUserTimeout: { seconds: 300, header: BUDGET_HEADER } })
  export() {
    return this.answer('/export', '/export')
  }

  // A route that must not be bound at all: no scope, sockets left alone.
  @Get('health')
  @RouteConfig({ tcpUserTimeout: false })
  health() {
    return this.answer('/health', '/ping')
  }

  // The body is parsed inside the scope on both platforms.
  @Post('orders')
  orders(@Body() body: unknown) {
    return this.answer('/orders', '/price', body)
  }

  // What the kernel holds for a socket this handler opens: a fresh
  // connection to the upstream (no pool), its TCP_USER_TIMEOUT read back
  // while the exchange is in flight.
  @Get('socket')
  async socket() {
    const socketMs = await new Promise<number | null>((resolve, reject) => {
      http
        .get(new URL('/ping', this.upstreamUrl), { agent: false }, (res) => {
          const ms = getUserTimeout(res.socket) ?? null
          res.resume()
          res.on('end', () => resolve(ms))
        })
        .on('error', reject)
    })
    return { route: '/socket', budgetMs: currentTimeout() ?? null, socketMs }
  }

  private async answer(route: string, path: string, body?: unknown) {
    try {
      const upstream = await callUpstream(this.upstreamUrl, path, body, currentTimeout() ?? 25_000)
      return { route, budgetMs: currentTimeout() ?? null, upstream }
    } catch (err) {
      // ETIMEDOUT here is the kernel giving up on a dead upstream.
      const { status, code } = failure(err)
      throw new HttpException({ route, budgetMs: currentTimeout() ?? null, error: code }, status)
    }
  }
}
