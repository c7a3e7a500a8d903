/**
 * The database and cache servers some tests talk to: PostgreSQL, MariaDB and
 * Redis on 127.0.0.1 (their standard ports, overridable by env). A test file
 * asks once at load time; when the service does not answer it prints why and
 * skips, except in CI (env CI set), where a missing service is a failure.
 */
import net from 'node:net'

export interface Service {
  readonly name: string
  readonly host: string
  readonly port: number
}

export const POSTGRES: Service = { name: 'PostgreSQL', host: '127.0.0.1', port: Number(process.env.PGPORT ?? 5432) }
export const MARIADB: Service = { name: 'MariaDB', host: '127.0.0.1', port: Number(process.env.MYSQL_PORT ?? 3306) }
export const REDIS: Service = { name: 'Redis', host: '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379) }

/** Connection settings the machines provide (trust auth / empty root password, database `test`). */
export const postgresConfig = {
  host: POSTGRES.host,
  port: POSTGRES.port,
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
}
export const mariadbConfig = {
  host: MARIADB.host,
  port: MARIADB.port,
  user: process.env.MYSQL_USER ?? 'root',
  password: process.env.MYSQL_PASSWORD ?? '',
  database: process.env.MYSQL_DATABASE ?? 'test',
}
export const redisConfig = { host: REDIS.host, port: REDIS.port }

const PROBE_TIMEOUT_MS = 2000

/** Why the service cannot be reached, or undefined when a TCP connect to it succeeds. Never throws. */
export function unreachable(service: Service): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(service.port, service.host)
    const done = (why: string | undefined) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(why)
    }
    const timer = setTimeout(() => done(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS)
    socket.once('connect', () => done(undefined))
    socket.once('error', (error) => done(error.message))
  })
}

/**
 * Whether the tests of `file` that need `services` skip: true (after printing
 * why) when one is unreachable outside CI. In CI it returns false, and the
 * tests then fail on the missing service, as they must.
 */
export async function skipWithout(file: string, ...services: Service[]): Promise<boolean> {
  for (const service of services) {
    const why = await unreachable(service)
    if (why === undefined) continue
    const where = `${service.name} at ${service.host}:${service.port}`
    if (process.env.CI) {
      console.log(`[${file}] ${where} is unreachable (${why}); CI is set, so its tests run and fail`)
      return false
    }
    console.log(`[${file}] skipping: ${where} is unreachable (${why})`)
    return true
  }
  return false
}
