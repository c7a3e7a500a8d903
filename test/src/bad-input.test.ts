import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import dc from 'node:diagnostics_channel'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import {
  CHANNEL_ERROR,
  getUserTimeout,
  hardenServer,
  headroom,
  setGlobalDefault,
  setKeepAliveProbes,
  setUserTimeout,
  stats,
  withJobTimeout,
  withTimeout,
  type ErrorMessage,
} from '@tcp-user-timeout/core'
import { connected, perSuite, startTcpSink } from '@tcp-user-timeout/test-utils'

const suite = perSuite()

const notMs: [string, unknown, string][] = [
  ['negative', -1, 'TUT_ERR_OUT_OF_RANGE'],
  ['NaN', NaN, 'TUT_ERR_OUT_OF_RANGE'],
  ['Infinity', Infinity, 'TUT_ERR_OUT_OF_RANGE'],
  ['2**31', 2 ** 31, 'TUT_ERR_OUT_OF_RANGE'],
  ['2**32 + 5000 (ffi-rs would truncate it to 5000)', 2 ** 32 + 5000, 'TUT_ERR_OUT_OF_RANGE'],
  ['a fraction', 1.5, 'TUT_ERR_OUT_OF_RANGE'],
  ['a string', '100', 'TUT_ERR_INVALID_ARG'],
  ['undefined', undefined, 'TUT_ERR_INVALID_ARG'],
  ['a BigInt', 100n, 'TUT_ERR_INVALID_ARG'],
]

const notSeconds: [string, unknown, string][] = [
  ['negative', -1, 'TUT_ERR_OUT_OF_RANGE'],
  ['zero', 0, 'TUT_ERR_OUT_OF_RANGE'],
  ['NaN', NaN, 'TUT_ERR_OUT_OF_RANGE'],
  ['Infinity', Infinity, 'TUT_ERR_OUT_OF_RANGE'],
  ['2**31 seconds', 2 ** 31, 'TUT_ERR_OUT_OF_RANGE'],
  ['a string', '5', 'TUT_ERR_INVALID_ARG'],
  ['null', null, 'TUT_ERR_INVALID_ARG'],
]

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('setUserTimeout rejects every invalid ms before any syscall', () => {
  it.each(notMs)('%s', async (_label, ms, code) => {
    const { port } = await startTcpSink(suite)
    const socket = await connected(net.connect(port, '127.0.0.1'))
    expect(codeOf(() => setUserTimeout(socket, ms as number))).toBe(code)
    expect(getUserTimeout(socket)).toBe(0)
    socket.destroy()
  })

  it('accepts the bounds 0 and 2147483647', async () => {
    const { port } = await startTcpSink(suite)
    const socket = await connected(net.connect(port, '127.0.0.1'))
    expect(setUserTimeout(socket, 2147483647)).toBe(true)
    expect(getUserTimeout(socket)).toBe(2147483647)
    expect(setUserTimeout(socket, 0)).toBe(true)
    expect(getUserTimeout(socket)).toBe(0)
    socket.destroy()
  })
})

describe.each([
  ['withTimeout', (s: unknown) => withTimeout(s as number, () => 1), notSeconds],
  ['withJobTimeout', (s: unknown) => withJobTimeout(s as number, () => 1), notSeconds],
  // null removes the global default: valid.
  ['setGlobalDefault', (s: unknown) => setGlobalDefault(s as number), notSeconds.filter(([, v]) => v !== null)],
  // headroom is arithmetic: a huge maximum is fine until it becomes a bound.
  ['headroom', (s: unknown) => headroom(s as number), notSeconds.filter(([, v]) => v !== 2 ** 31)],
])('%s rejects every invalid seconds', (_name, call, cases) => {
  it.each(cases)('%s', (_label, seconds, code) => {
    expect(codeOf(() => call(seconds))).toBe(code)
  })
})

it('withTimeout rejects a missing fn with a coded error', () => {
  expect(codeOf(() => withTimeout(1, undefined as unknown as () => void))).toBe('TUT_ERR_INVALID_ARG')
})

it('messages say what was received and what is expected', () => {
  expect(() => setUserTimeout(0, -5)).toThrow(/integer in 0\.\.2147483647.*received -5/)
  expect(() => withTimeout('5' as unknown as number, () => {})).toThrow(/number of seconds, received "5"/)
})

describe('targets', () => {
  it('rejects what is neither a socket nor a fd', () => {
    for (const t of [-1, 1.5, '3', {}, null]) {
      expect(codeOf(() => setUserTimeout(t as number, 1000))).toBe('TUT_ERR_INVALID_ARG')
      expect(codeOf(() => getUserTimeout(t as number))).toBe('TUT_ERR_INVALID_ARG')
    }
  })

  it('an explicit call on a file throws ENOTSOCK, on a closed fd EBADF, on a destroyed socket EBADF', async () => {
    const file = path.join(os.tmpdir(), `tut-${process.pid}-notsock`)
    const fd = fs.openSync(file, 'w')
    try {
      expect(() => setUserTimeout(fd, 1000)).toThrow(
        expect.objectContaining({ code: 'TUT_ERR_SOCKOPT', errnoName: 'ENOTSOCK' }),
      )
    } finally {
      fs.closeSync(fd)
      fs.rmSync(file)
    }
    expect(() => setUserTimeout(fd, 1000)).toThrow(
      expect.objectContaining({ errnoName: 'EBADF', syscall: 'setsockopt' }),
    )
    const { port } = await startTcpSink(suite)
    const socket = await connected(net.connect(port, '127.0.0.1'))
    socket.destroy()
    expect(() => setUserTimeout(socket, 1000)).toThrow(expect.objectContaining({ errnoName: 'EBADF' }))
    expect(getUserTimeout(socket)).toBeUndefined()
  })

  it('setKeepAliveProbes validates every field', () => {
    const ok = { idleSeconds: 1, intervalSeconds: 1, count: 1 }
    for (const bad of [
      null,
      { ...ok, idleSeconds: 0 },
      { ...ok, intervalSeconds: 40000 },
      { ...ok, count: 128 },
      { ...ok, count: 1.5 },
      { ...ok, idleSeconds: '1' },
    ]) {
      expect(codeOf(() => setKeepAliveProbes(0, bad as typeof ok))).toMatch(/^TUT_ERR_(INVALID_ARG|OUT_OF_RANGE)$/)
    }
  })

  it('hardenServer validates its options', () => {
    const server = net.createServer()
    for (const bad of [
      null,
      5,
      { userTimeoutSeconds: -1 },
      { keepAlive: { idleSeconds: 1 } },
      { keepAlive: false },
      { keepAlive: true },
      { userTimeout: 5 },
    ]) {
      expect(codeOf(() => hardenServer(server, bad as never))).toBe('TUT_ERR_INVALID_OPTION')
    }
    expect(() => hardenServer(server, { userTimeout: 5 } as never)).toThrow(
      /unknown option "userTimeout".*userTimeoutSeconds, keepAlive/,
    )
    expect(codeOf(() => hardenServer({} as net.Server, { userTimeoutSeconds: 1 }))).toBe('TUT_ERR_INVALID_ARG')
  })
})

it('a socket destroyed while it is still connecting (no fd yet): nothing thrown, no syscall, no error counted or published', async () => {
  const published: ErrorMessage[] = []
  const onError = (m: unknown) => published.push(m as ErrorMessage)
  dc.subscribe(CHANNEL_ERROR, onError)
  const before = stats()
  // A host name: its lookup is still pending when the socket is destroyed.
  const socket = withTimeout(5, () => net.connect({ port: 9, host: 'localhost' }))
  socket.on('error', () => {})
  socket.destroy()
  await once(socket, 'close')
  dc.unsubscribe(CHANNEL_ERROR, onError)
  const after = stats()
  expect({ errors: after.errors - before.errors, calls: after.setsockoptCalls - before.setsockoptCalls }).toEqual({
    errors: 0,
    calls: 0,
  })
  expect(published).toEqual([])
})
