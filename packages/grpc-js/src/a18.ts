/**
 * gRPC proposal A18 (TCP user timeout): where keepalive is enabled, a
 * connection's TCP_USER_TIMEOUT is the keepalive timeout. grpc-js reads the
 * same two channel (and server) options:
 * - `grpc.keepalive_time_ms` enables keepalive when > 0; grpc-js clamps it
 *   to KEEPALIVE_MAX_TIME_MS (2**31 - 1), which is also its "off" (the
 *   server's default), so that value and anything above it is off;
 * - `grpc.keepalive_timeout_ms`, default 20000 (transport.js, server.js).
 */
export const KEEPALIVE_OFF_MS = 2_147_483_647
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000

type Options = Readonly<Record<string, unknown>> | null | undefined

/**
 * The A18 bound for connections made with `options`, in ms the kernel takes;
 * undefined where keepalive is off. A timeout grpc-js could not use
 * either (not a number > 0) counts as not given.
 */
export function keepaliveTimeoutMs(options: Options): number | undefined {
  const time = options?.['grpc.keepalive_time_ms']
  if (typeof time !== 'number' || !(time > 0) || time >= KEEPALIVE_OFF_MS) return undefined
  const timeout = options?.['grpc.keepalive_timeout_ms']
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) return DEFAULT_KEEPALIVE_TIMEOUT_MS
  return Math.min(KEEPALIVE_OFF_MS, Math.max(1, Math.round(timeout)))
}
