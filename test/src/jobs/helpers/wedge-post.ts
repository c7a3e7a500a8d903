/**
 * The write-side wedge, as a job meets it: an HTTP POST whose body (64 KiB
 * chunks, at most MAX_CHUNKS) goes to a server that accepts and never reads
 * (helpers/wedge.ts). Once the buffers are full the body stays
 * unacknowledged; with TCP_USER_TIMEOUT the kernel closes the socket with
 * ETIMEDOUT and the request fails with it.
 */
import http from 'node:http'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { getUserTimeout } from '@tcp-user-timeout/core'
import { CHUNK_BYTES, MAX_CHUNKS } from '../../helpers/wedge.js'

export interface WedgedPost {
  /** TCP_USER_TIMEOUT of the request's socket, read once connected. */
  userTimeout: number | undefined
  /** `performance.now()` of the last write that found the buffers full. */
  wedgedAt: number | undefined
  /** `performance.now()` of the request's error. */
  failedAt: number | undefined
  bytes: number
}

/**
 * POSTs into the wedge until the request fails; rejects with the request's
 * error (ETIMEDOUT when the kernel gave up), after filling `record`. Gives up
 * with another error after `giveUpMs`, so a missing bound fails a test
 * instead of hanging it.
 */
export function postIntoWedge(port: number, record: WedgedPost, giveUpMs = 15_000): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false })
    const giveUp = setTimeout(
      () => req.destroy(new Error(`no error within ${giveUpMs} ms: the wedged POST was not bounded`)),
      giveUpMs,
    )
    let failed = false
    req.once('error', (error) => {
      failed = true
      record.failedAt = performance.now()
      clearTimeout(giveUp)
      reject(error)
    })
    req.once('socket', (socket: Socket) => {
      const start = () => {
        record.userTimeout = getUserTimeout(socket)
        void pump()
      }
      if (socket.connecting) socket.once('connect', start)
      else start()
    })
    const chunk = Buffer.alloc(CHUNK_BYTES, 0x61)
    async function pump() {
      for (let i = 0; i < MAX_CHUNKS && !failed; i++) {
        record.bytes += CHUNK_BYTES
        if (req.write(chunk)) continue
        record.wedgedAt = performance.now()
        // 'drain' while the kernel still takes data; never once wedged: then 'error' ends the wait.
        await new Promise<void>((resolve) => {
          const done = () => {
            req.off('drain', done)
            req.off('error', done)
            resolve()
          }
          req.once('drain', done)
          req.once('error', done)
        })
      }
      if (!failed) req.destroy(new Error(`${MAX_CHUNKS} chunks were all taken: no wedge`))
    }
  })
}
