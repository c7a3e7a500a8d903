/**
 * The write-side wedge, which needs no root: a server on loopback accepts
 * connections and never reads them (`pauseOnConnect`), so a client that keeps
 * writing fills the server's receive window and then its own send buffer. From
 * then on the client's data stays unacknowledged (zero window), which is what
 * TCP_USER_TIMEOUT bounds (Linux 5.9+ also applies it to zero-window probes).
 */
import net from 'node:net'
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import type { Teardown } from '@tcp-user-timeout/test-utils'

export const CHUNK_BYTES = 64 * 1024
/** At most this many chunks are written (256 MiB): the loop is bounded whatever the buffers are. */
export const MAX_CHUNKS = 4096

export interface WedgeServer {
  readonly host: '127.0.0.1'
  readonly port: number
  /** Sockets the server accepted (never read, never resumed). */
  readonly accepted: Set<net.Socket>
  /** Registers a client socket so that `close()` destroys it too; returns it. */
  track<T extends net.Socket>(socket: T): T
  /** Destroys every accepted and tracked socket and closes the server. Idempotent. */
  close(): Promise<void>
}

/** A net server on 127.0.0.1:0 that accepts and never reads; closed with `t` when given. */
export async function startWedgeServer(t?: Teardown): Promise<WedgeServer> {
  const accepted = new Set<net.Socket>()
  const tracked = new Set<net.Socket>()
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    accepted.add(socket)
    // The client side is destroyed or timed out while this end still holds
    // data: never let a late RST/EPIPE become an unhandled 'error'.
    socket.on('error', () => {})
    socket.once('close', () => accepted.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as net.AddressInfo).port
  let closing: Promise<void> | undefined
  const wedgeServer: WedgeServer = {
    host: '127.0.0.1',
    port,
    accepted,
    track(socket) {
      tracked.add(socket)
      if (socket.listenerCount('error') === 0) socket.on('error', () => {})
      return socket
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const s of tracked) s.destroy()
        for (const s of accepted) s.destroy()
        tracked.clear()
        server.close(() => resolve())
      })
      return closing
    },
  }
  t?.defer(wedgeServer, (w) => w.close())
  return wedgeServer
}

export interface Wedge {
  /** `performance.now()` when `write()` first returned false: the send buffer is full, the peer's window closed. */
  wedgedAt: number
  chunks: number
  bytes: number
}

/**
 * Waits for the client to be connected (bounded), then writes 64 KiB chunks
 * until `write()` returns false; resolves with the moment that happened.
 * Rejects when the connection fails, or when MAX_CHUNKS were all accepted
 * (the buffers never filled: no wedge).
 */
export async function wedge(socket: net.Socket, connectTimeoutMs = 5000): Promise<Wedge> {
  if (socket.connecting) await waitForConnect(socket, connectTimeoutMs)
  if (socket.destroyed) throw new Error('wedge: the socket was destroyed before it could be wedged')
  const chunk = Buffer.alloc(CHUNK_BYTES, 0x61)
  for (let i = 1; i <= MAX_CHUNKS; i++) {
    if (!socket.write(chunk)) {
      return { wedgedAt: performance.now(), chunks: i, bytes: i * CHUNK_BYTES }
    }
  }
  throw new Error(`wedge: ${MAX_CHUNKS} chunks of ${CHUNK_BYTES} bytes were all accepted; the buffers never filled`)
}

function waitForConnect(socket: net.Socket, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`wedge: not connected within ${ms} ms`)), ms)
    const onConnect = () => done()
    const onError = (error: Error) => done(error)
    function done(error?: Error) {
      clearTimeout(timer)
      socket.off('connect', onConnect)
      socket.off('error', onError)
      if (error) reject(error)
      else resolve()
    }
    socket.once('connect', onConnect)
    socket.once('error', onError)
  })
}

export interface SocketError {
  error: NodeJS.ErrnoException
  /** `performance.now()` when 'error' was emitted. */
  at: number
}

export interface SocketWatch {
  /** Resolves with the socket's first error, or null if none came within `ms` (measured from now). */
  within(ms: number): Promise<SocketError | null>
  /** The first error, once it came (undefined until then). */
  readonly error: SocketError | undefined
  /**
   * Resolves once the socket emitted 'close' (at once if it did); rejects
   * after `ms`. A net.Socket emits 'close' itself when its handle has closed,
   * after 'error': neither `socket.closed` nor the stream's `closeEmitted`
   * says it happened. Code awaiting this resumes after every 'close'
   * listener ran (core counts timeouts in one).
   */
  closed(ms?: number): Promise<void>
}

/**
 * Starts watching a socket's 'error' and 'close' now (call it right after creating the
 * socket, before it can fail). The listener stays, so an error after the
 * watch window never crashes the test process.
 */
export function watchSocket(socket: net.Socket): SocketWatch {
  let first: SocketError | undefined
  const waiters = new Set<(e: SocketError) => void>()
  let closeEmitted = false
  const closeWaiters = new Set<() => void>()
  socket.once('close', () => {
    closeEmitted = true
    for (const w of closeWaiters) w()
    closeWaiters.clear()
  })
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (first) return
    first = { error, at: performance.now() }
    for (const w of waiters) w(first)
    waiters.clear()
  })
  return {
    get error() {
      return first
    },
    within(ms: number) {
      if (first) return Promise.resolve(first)
      return new Promise<SocketError | null>((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(onError)
          resolve(null)
        }, ms)
        const onError = (e: SocketError) => {
          clearTimeout(timer)
          resolve(e)
        }
        waiters.add(onError)
      })
    },
    closed(ms = 5000) {
      if (closeEmitted) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          closeWaiters.delete(onClose)
          reject(new Error(`socket not closed within ${ms} ms`))
        }, ms)
        const onClose = () => {
          clearTimeout(timer)
          resolve()
        }
        closeWaiters.add(onClose)
      })
    },
  }
}
