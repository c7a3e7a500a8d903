/**
 * A TCP proxy on 127.0.0.1:0 that forwards to a real server (PostgreSQL, ...)
 * and can be told to stop reading from its clients in the middle of a stream.
 *
 * Once stalled, the proxy's client-side socket is paused: Node stops reading
 * it when its readable buffer is full, so the kernel's receive buffer fills,
 * the advertised window closes, and the client's data stays unacknowledged.
 * That is the write-side wedge of helpers/wedge.ts, through a real client.
 *
 * The proxy's own sockets are opened in the server's 'connection' callback,
 * outside any scope: they are boot sockets and hold 0, whatever scope the
 * client connected in (the tests check the client's socket, not these).
 */
import net from 'node:net'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'

export interface ProxyPair {
  /** The accepted socket: the client (pg, mysql2, ...) writes into it. */
  readonly downstream: net.Socket
  /** The proxy's connection to the real server. */
  readonly upstream: net.Socket
  /** The client's port (the accepted socket's remote port), kept after the sockets are destroyed. */
  readonly clientPort: number | undefined
  /** Bytes read from the client and forwarded upstream. */
  forwarded: number
  stalled: boolean
}

export interface StallArm {
  /**
   * Resolves with `performance.now()` at the moment the proxy stopped reading
   * from a client (after `bytes` more bytes were forwarded); rejects after `ms`.
   */
  readonly stalledAt: Promise<number>
  /** The connection that was stalled, once it was. */
  readonly pair: ProxyPair | undefined
  /** Disarms (if not yet stalled). */
  cancel(): void
}

export interface Proxy {
  readonly host: '127.0.0.1'
  readonly port: number
  /** Connections currently open through the proxy. */
  readonly pairs: ReadonlySet<ProxyPair>
  /** Connections accepted since the proxy started. */
  readonly accepted: number
  /**
   * Arms a stall on the connections open now: the first one that forwards
   * `bytes` more bytes from its client stops reading (mid-stream). New
   * connections are not affected: they forward normally.
   */
  stallAfter(bytes: number, ms?: number): StallArm
  /** Destroys every connection and closes the server. Idempotent. */
  close(): Promise<void>
}

export async function startProxy(target: { host: string; port: number }): Promise<Proxy> {
  const pairs = new Set<ProxyPair>()
  let accepted = 0
  type Watcher = (pair: ProxyPair, chunkBytes: number) => void
  const watchers = new Set<Watcher>()

  const server = net.createServer((downstream) => {
    accepted++
    const upstream = net.connect(target.port, target.host)
    const pair: ProxyPair = { downstream, upstream, clientPort: downstream.remotePort, forwarded: 0, stalled: false }
    pairs.add(pair)
    const teardown = () => {
      pairs.delete(pair)
      downstream.destroy()
      upstream.destroy()
    }
    // A peer destroyed mid-stream (ETIMEDOUT, test cleanup) must never become
    // an unhandled 'error': the other side is torn down with it.
    downstream.on('error', teardown)
    upstream.on('error', teardown)
    downstream.on('close', teardown)
    upstream.on('close', teardown)

    // Client -> server: forwarded by hand, so a stall can stop it between chunks.
    downstream.on('data', (chunk: Buffer) => {
      if (pair.stalled) return // already-buffered data read after pause(): dropped, the client is wedged anyway
      pair.forwarded += chunk.length
      if (!upstream.write(chunk)) downstream.pause()
      for (const w of watchers) w(pair, chunk.length)
    })
    upstream.on('drain', () => {
      if (!pair.stalled) downstream.resume()
    })
    // Server -> client: plain pipe, never stalled.
    upstream.pipe(downstream)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port

  let closing: Promise<void> | undefined
  return {
    host: '127.0.0.1',
    port,
    pairs,
    get accepted() {
      return accepted
    },
    stallAfter(bytes, ms = 10_000) {
      const eligible = new Set(pairs)
      const start = new Map<ProxyPair, number>([...eligible].map((p) => [p, p.forwarded]))
      let stalledPair: ProxyPair | undefined
      let watcher: Watcher | undefined
      let timer: NodeJS.Timeout | undefined
      const stalledAt = new Promise<number>((resolve, reject) => {
        watcher = (pair) => {
          if (!eligible.has(pair) || pair.forwarded - start.get(pair)! < bytes) return
          pair.stalled = true
          pair.downstream.pause()
          stalledPair = pair
          watchers.delete(watcher!)
          clearTimeout(timer)
          resolve(performance.now())
        }
        timer = setTimeout(() => {
          watchers.delete(watcher!)
          reject(new Error(`proxy: no connection forwarded ${bytes} more bytes within ${ms} ms`))
        }, ms)
        watchers.add(watcher)
      })
      stalledAt.catch(() => {}) // observed by the test; never an unhandled rejection
      return {
        stalledAt,
        get pair() {
          return stalledPair
        },
        cancel() {
          if (watcher) watchers.delete(watcher)
          clearTimeout(timer)
        },
      }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        watchers.clear()
        for (const p of pairs) {
          p.downstream.destroy()
          p.upstream.destroy()
        }
        pairs.clear()
        server.close(() => resolve())
      })
      return closing
    },
  }
}
