import net from 'node:net'
import { describe, InvalidArgumentError, SocketOptionError } from './errors.js'
import {
  IPPROTO_TCP,
  loadNative,
  setsockopt,
  SO_KEEPALIVE,
  SOL_SOCKET,
  TCP_KEEPCNT,
  TCP_KEEPIDLE,
  TCP_KEEPINTVL,
  TCP_USER_TIMEOUT,
  type Native,
  type Support,
} from './native.js'
import { attachState, fdOf, LEAVE_ALONE, Owner, recordBound, SocketState, stateOf, sync } from './socket-state.js'
import { validateInt, validateMs } from './validate.js'

export type Target = net.Socket | number

export interface KeepAliveProbes {
  /** Seconds of idleness before the first probe (TCP_KEEPIDLE), 1..32767. */
  idleSeconds: number
  /** Seconds between probes (TCP_KEEPINTVL), 1..32767. */
  intervalSeconds: number
  /** Unanswered probes before the kernel drops the connection (TCP_KEEPCNT), 1..127. */
  count: number
}

/** Whether socket options can be set here, and if not, why. Never throws. */
export function support(): Support {
  return { ...loadNative().support }
}

/**
 * Sets TCP_USER_TIMEOUT on a socket or fd now (a connecting socket: as
 * soon as its connection attempt has an fd). Returns false where
 * unsupported. An explicit value pins the socket: scopes, exchanges and a
 * request's end no longer change it, and a reconnect gets it again.
 */
export function setUserTimeout(target: Target, ms: number): boolean {
  validateTarget(target)
  validateMs(ms)
  const native = loadNative().native
  if (native === null) return false
  if (typeof target === 'number') {
    setOrThrow(native, target, IPPROTO_TCP, TCP_USER_TIMEOUT, ms, 'TCP_USER_TIMEOUT')
    return true
  }
  const state = stateOf(target) ?? attachState(target, new SocketState(Owner.Explicit, LEAVE_ALONE))
  state.owner = Owner.Explicit
  const fd = fdOf(target)
  if (fd < 0 && target.connecting) {
    state.want = ms
    sync(target, state)
    return true
  }
  setOrThrow(
    native,
    fdOrThrow(target, 'setsockopt', 'TCP_USER_TIMEOUT'),
    IPPROTO_TCP,
    TCP_USER_TIMEOUT,
    ms,
    'TCP_USER_TIMEOUT',
  )
  recordBound(target, state, ms)
  return true
}

/** Reads TCP_USER_TIMEOUT back with getsockopt; undefined where unsupported or while the socket has no fd. */
export function getUserTimeout(target: Target): number | undefined {
  validateTarget(target)
  const native = loadNative().native
  if (native === null) return undefined
  const fd = typeof target === 'number' ? target : fdOf(target)
  if (fd < 0) return undefined
  return getOrThrow(native, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 'TCP_USER_TIMEOUT')
}

/**
 * Turns on keep-alive probes with the given timing (SO_KEEPALIVE,
 * TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT): they find a dead peer while the
 * connection is idle, where TCP_USER_TIMEOUT finds it while data is unacked.
 */
export function setKeepAliveProbes(target: Target, probes: KeepAliveProbes): boolean {
  validateTarget(target)
  const p = validateKeepAlive(probes)
  const native = loadNative().native
  if (native === null) return false
  const fd = typeof target === 'number' ? target : fdOrThrow(target, 'setsockopt', 'SO_KEEPALIVE')
  applyKeepAlive(native, fd, p)
  return true
}

/** Reads the keep-alive settings back; undefined where unsupported or while the socket has no fd. */
export function getKeepAliveProbes(target: Target): (KeepAliveProbes & { enabled: boolean }) | undefined {
  validateTarget(target)
  const native = loadNative().native
  if (native === null) return undefined
  const fd = typeof target === 'number' ? target : fdOf(target)
  if (fd < 0) return undefined
  return {
    enabled: getOrThrow(native, fd, SOL_SOCKET, SO_KEEPALIVE, 'SO_KEEPALIVE') !== 0,
    idleSeconds: getOrThrow(native, fd, IPPROTO_TCP, TCP_KEEPIDLE, 'TCP_KEEPIDLE'),
    intervalSeconds: getOrThrow(native, fd, IPPROTO_TCP, TCP_KEEPINTVL, 'TCP_KEEPINTVL'),
    count: getOrThrow(native, fd, IPPROTO_TCP, TCP_KEEPCNT, 'TCP_KEEPCNT'),
  }
}

export function validateKeepAlive(probes: unknown, name = 'keepAlive'): KeepAliveProbes {
  if (probes === null || typeof probes !== 'object') {
    throw new InvalidArgumentError(
      `${name} must be an object { idleSeconds, intervalSeconds, count }, received ${describe(probes)}`,
    )
  }
  const p = probes as Record<string, unknown>
  return {
    idleSeconds: validateInt(p.idleSeconds, `${name}.idleSeconds`, 1, 32767),
    intervalSeconds: validateInt(p.intervalSeconds, `${name}.intervalSeconds`, 1, 32767),
    count: validateInt(p.count, `${name}.count`, 1, 127),
  }
}

/** Sets the four keep-alive options; throws a SocketOptionError at the first that fails. */
export function applyKeepAlive(native: Native, fd: number, p: KeepAliveProbes): void {
  setOrThrow(native, fd, IPPROTO_TCP, TCP_KEEPIDLE, p.idleSeconds, 'TCP_KEEPIDLE')
  setOrThrow(native, fd, IPPROTO_TCP, TCP_KEEPINTVL, p.intervalSeconds, 'TCP_KEEPINTVL')
  setOrThrow(native, fd, IPPROTO_TCP, TCP_KEEPCNT, p.count, 'TCP_KEEPCNT')
  setOrThrow(native, fd, SOL_SOCKET, SO_KEEPALIVE, 1, 'SO_KEEPALIVE')
}

export function setOrThrow(
  native: Native,
  fd: number,
  level: number,
  name: number,
  value: number,
  option: string,
): void {
  const errno = setsockopt(native, fd, level, name, value)
  if (errno !== 0) throw new SocketOptionError('setsockopt', option, errno)
}

function getOrThrow(native: Native, fd: number, level: number, name: number, option: string): number {
  const value = native.getInt(fd, level, name)
  if (value < 0) throw new SocketOptionError('getsockopt', option, -value)
  return value
}

function fdOrThrow(socket: net.Socket, syscall: 'setsockopt' | 'getsockopt', option: string): number {
  const fd = fdOf(socket)
  if (fd < 0)
    throw new SocketOptionError(
      syscall,
      option,
      9 /* EBADF */,
      'the socket has no file descriptor: it is closed or not connected',
    )
  return fd
}

function validateTarget(target: unknown): asserts target is Target {
  if (target instanceof net.Socket) return
  if (typeof target === 'number' && Number.isInteger(target) && target >= 0 && target <= 2_147_483_647) return
  throw new InvalidArgumentError(
    `target must be a net.Socket or a file descriptor (an integer >= 0), received ${describe(target)}`,
  )
}
