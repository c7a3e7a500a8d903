import http from 'node:http'
import net, { type Server, type Socket } from 'node:net'
import { describe, expect, test } from 'tstyche'
import {
  CHANNEL_BIND,
  CHANNEL_ERROR,
  CHANNEL_TIMEOUT,
  DEFAULT_KEEPALIVE,
  InvalidArgumentError,
  InvalidOptionError,
  MAX_MS,
  OutOfRangeError,
  SocketOptionError,
  codes,
  currentTimeout,
  getKeepAliveProbes,
  getUserTimeout,
  globalDefault,
  hardenServer,
  headroom,
  install,
  installed,
  observe,
  resetStats,
  setGlobalDefault,
  setKeepAliveProbes,
  setUserTimeout,
  stats,
  support,
  uninstall,
  withJobTimeout,
  withTimeout,
  type BindMessage,
  type ErrorCode,
  type ErrorMessage,
  type HardenOptions,
  type HostPattern,
  type KeepAliveProbes,
  type Observer,
  type ScopeOptions,
  type Stats,
  type Support,
  type Target,
  type TcpUserTimeoutEvent,
  type TimeoutMessage,
} from '@tcp-user-timeout/core'
import type * as Core from '@tcp-user-timeout/core'

declare const socket: Socket
declare const server: Server

describe('socket options', () => {
  test('setUserTimeout(socket | fd, ms) → boolean', () => {
    expect(setUserTimeout(socket, 5000)).type.toBe<boolean>()
    expect(setUserTimeout(7, 5000)).type.toBe<boolean>()
    expect(setUserTimeout(new net.Socket(), 0)).type.toBe<boolean>()
    expect<Target>().type.toBe<Socket | number>()

    expect(setUserTimeout).type.not.toBeCallableWith('7', 5000)
    expect(setUserTimeout).type.not.toBeCallableWith(socket, '5000')
    expect(setUserTimeout).type.not.toBeCallableWith(socket)
    expect(setUserTimeout).type.not.toBeCallableWith({ fd: 7 }, 5000)
  })

  test('getUserTimeout(socket | fd) → number | undefined', () => {
    expect(getUserTimeout(socket)).type.toBe<number | undefined>()
    expect(getUserTimeout(7)).type.toBe<number | undefined>()
    expect(getUserTimeout).type.not.toBeCallableWith('7')
  })

  test('keep-alive probes', () => {
    expect(setKeepAliveProbes(socket, { idleSeconds: 15, intervalSeconds: 15, count: 9 })).type.toBe<boolean>()
    expect(setKeepAliveProbes).type.not.toBeCallableWith(socket, { idleSeconds: 15 })
    expect(getKeepAliveProbes(socket)).type.toBe<(KeepAliveProbes & { enabled: boolean }) | undefined>()
    expect(DEFAULT_KEEPALIVE).type.toBe<Readonly<KeepAliveProbes>>()
  })

  test('support() → { supported, reason? }', () => {
    expect(support()).type.toBe<Support>()
    expect<Support>().type.toBe<{ supported: boolean; reason?: string }>()
  })

  test('MAX_MS is the kernel int limit', () => {
    expect(MAX_MS).type.toBe<2147483647>()
  })
})

describe('scopes', () => {
  test('withTimeout returns what fn returns', () => {
    expect(withTimeout(25, () => 42)).type.toBe<number>()
    expect(withTimeout(25, () => 'x' as const)).type.toBe<'x'>()
    expect(withTimeout(25, async () => ({ rows: [1, 2] }))).type.toBe<Promise<{ rows: number[] }>>()
    expect(withTimeout(25, () => {})).type.toBe<void>()
    expect(withTimeout(25, () => 1, { exemptHosts: ['metadata.internal', /\.svc$/] })).type.toBe<number>()
  })

  test('withTimeout rejects bad arguments', () => {
    expect(withTimeout('25', () => 1)).type.toRaiseError()
    expect(withTimeout(25)).type.toRaiseError()
    expect(withTimeout(25, () => 1, { exemptHosts: [42] })).type.toRaiseError()
    expect(withTimeout(25, () => 1, { exempt: ['a'] })).type.toRaiseError()
  })

  test('withJobTimeout, headroom', () => {
    expect(withJobTimeout(30, () => 1)).type.toBe<number>()
    expect(withJobTimeout(30, async () => 'done')).type.toBe<Promise<string>>()
    expect(withJobTimeout(30, () => 1, { exemptHosts: ['redis'] })).type.toBe<number>()
    expect(headroom(30)).type.toBe<number>()
    expect(withJobTimeout('30', () => 1)).type.toRaiseError()
  })

  test('currentTimeout, setGlobalDefault, globalDefault', () => {
    expect(currentTimeout()).type.toBe<number | undefined>()
    expect(setGlobalDefault(60)).type.toBe<void>()
    expect(setGlobalDefault(null)).type.toBe<void>()
    expect(setGlobalDefault(undefined)).type.toRaiseError()
    expect(setGlobalDefault('60')).type.toRaiseError()
    expect(globalDefault()).type.toBe<number | undefined>()
  })

  test('ScopeOptions and HostPattern', () => {
    expect<ScopeOptions>().type.toBeAssignableFrom({ exemptHosts: ['a', /b/] })
    expect<HostPattern>().type.toBe<string | RegExp>()
  })
})

describe('server hardening', () => {
  test('hardenServer returns an undo', () => {
    expect(hardenServer(server)).type.toBe<() => void>()
    expect(hardenServer(http.createServer())).type.toBe<() => void>()
    expect(hardenServer(server, { userTimeoutSeconds: 30 })).type.toBe<() => void>()
    expect(hardenServer(server, { keepAlive: { idleSeconds: 30, intervalSeconds: 10, count: 3 } })).type.toBe<
      () => void
    >()
    expect(hardenServer(server, { keepAlive: false, userTimeoutSeconds: 30 })).type.toBe<() => void>()
  })

  test('hardenServer rejects bad options', () => {
    expect(hardenServer(server, { userTimeoutSeconds: '30' })).type.toRaiseError()
    expect(hardenServer(server, { keepAlive: true })).type.toRaiseError()
    expect(hardenServer(server, { keepAlive: { idleSeconds: 30 } })).type.toRaiseError()
    expect(hardenServer(server, { userTimeout: 30 })).type.toRaiseError()
    expect(hardenServer({})).type.toRaiseError()
  })

  test('HardenOptions', () => {
    expect<HardenOptions>().type.toBe<{ userTimeoutSeconds?: number; keepAlive?: KeepAliveProbes | false }>()
  })
})

describe('stats and diagnostics', () => {
  test('stats()', () => {
    expect(stats()).type.toBe<Stats>()
    expect<Stats>().type.toBe<{
      bound: number
      timedOut: number
      errors: number
      setsockoptCalls: number
      hardened: number
      reaped: number
    }>()
    expect(resetStats()).type.toBe<void>()
  })

  test('channel names are literal types', () => {
    expect(CHANNEL_BIND).type.toBe<'tcp-user-timeout:bind'>()
    expect(CHANNEL_TIMEOUT).type.toBe<'tcp-user-timeout:timeout'>()
    expect(CHANNEL_ERROR).type.toBe<'tcp-user-timeout:error'>()
  })

  test('messages', () => {
    expect<BindMessage>().type.toBe<{
      socket: Socket
      ms: number
      direction: 'outbound' | 'inbound'
      remoteAddress: string | undefined
      remotePort: number | undefined
    }>()
    expect<TimeoutMessage>().type.toBe<BindMessage>()
    expect<ErrorMessage>().type.toBe<{
      socket: Socket | null
      error: Error
      remoteAddress: string | undefined
      remotePort: number | undefined
    }>()
  })

  test('observe(): an optional listener of plain events; inForce() counts per bound', () => {
    expect(observe()).type.toBe<Observer>()
    expect(observe((event) => event.peer)).type.toBe<Observer>()
    expect(observe).type.not.toBeCallableWith((event: { socket: Socket }) => event)
    expect<TcpUserTimeoutEvent['type']>().type.toBe<'bind' | 'timeout' | 'error'>()
    expect<TcpUserTimeoutEvent['socket']>().type.toBe<Socket | null | undefined>()
    expect(observe().inForce()).type.toBe<Record<number, number>>()
    expect(observe().close()).type.toBe<void>()
  })
})

describe('errors', () => {
  test('codes are literal types', () => {
    expect(codes.INVALID_ARG).type.toBe<'TUT_ERR_INVALID_ARG'>()
    expect(codes.OUT_OF_RANGE).type.toBe<'TUT_ERR_OUT_OF_RANGE'>()
    expect(codes.INVALID_OPTION).type.toBe<'TUT_ERR_INVALID_OPTION'>()
    expect(codes.SOCKOPT).type.toBe<'TUT_ERR_SOCKOPT'>()
    expect<ErrorCode>().type.toBe<
      'TUT_ERR_INVALID_ARG' | 'TUT_ERR_OUT_OF_RANGE' | 'TUT_ERR_INVALID_OPTION' | 'TUT_ERR_SOCKOPT'
    >()
  })

  test('error classes: their base and a literal `.code`', () => {
    expect(new InvalidArgumentError('m')).type.toBeAssignableTo<TypeError>()
    expect(new InvalidArgumentError('m').code).type.toBe<'TUT_ERR_INVALID_ARG'>()
    expect(new OutOfRangeError('m')).type.toBeAssignableTo<RangeError>()
    expect(new OutOfRangeError('m').code).type.toBe<'TUT_ERR_OUT_OF_RANGE'>()
    expect(new InvalidOptionError('m')).type.toBeAssignableTo<TypeError>()
    expect(new InvalidOptionError('m').code).type.toBe<'TUT_ERR_INVALID_OPTION'>()

    const e = new SocketOptionError('setsockopt', 'TCP_USER_TIMEOUT', 9)
    expect(e).type.toBeAssignableTo<Error>()
    expect(e.code).type.toBe<'TUT_ERR_SOCKOPT'>()
    expect(e.errno).type.toBe<number>()
    expect(e.errnoName).type.toBe<string>()
    expect(e.syscall).type.toBe<'setsockopt' | 'getsockopt'>()
    expect(SocketOptionError).type.not.toBeConstructableWith('ioctl', 'X', 9)
  })

  test('`.code` narrows an unknown error', () => {
    const narrow = (error: InvalidOptionError | SocketOptionError) =>
      error.code === 'TUT_ERR_SOCKOPT' ? error.errnoName : error.message
    expect(narrow).type.toBe<(error: InvalidOptionError | SocketOptionError) => string>()
  })
})

test('install, uninstall, installed', () => {
  expect(install()).type.toBe<boolean>()
  expect(uninstall()).type.toBe<void>()
  expect(installed()).type.toBe<boolean>()
})

test('the main entry holds what an application uses: adapter and internal names are not exported', () => {
  expect<typeof Core>().type.not.toHaveProperty('channels')
  expect<typeof Core>().type.not.toHaveProperty('createPolicy')
  expect<typeof Core>().type.not.toHaveProperty('runInScope')
  expect<typeof Core>().type.not.toHaveProperty('runUntilSettled')
  expect<typeof Core>().type.not.toHaveProperty('scopeResponseBody')
  expect<typeof Core>().type.not.toHaveProperty('createScope')
  expect<typeof Core>().type.not.toHaveProperty('runUnscoped')
  expect<typeof Core>().type.not.toHaveProperty('compileExemptHosts')
  expect<typeof Core>().type.not.toHaveProperty('enterRequest')
  expect<typeof Core>().type.not.toHaveProperty('resolveHardening')
  expect<typeof Core>().type.not.toHaveProperty('describeValue')
  expect<typeof Core>().type.not.toHaveProperty('parseDeadlineHeader')
})
