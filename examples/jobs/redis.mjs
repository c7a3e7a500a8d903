// Where Redis is, for the worker and the producer: REDIS_URL
// (redis://[user:password@]host:port[/db], rediss:// for TLS), else
// REDIS_HOST / REDIS_PORT, else 127.0.0.1:6379. And the queue's name (QUEUE).

export const QUEUE = process.env.QUEUE || 'tcp-user-timeout-example'

export function redisFromEnv() {
  if (process.env.REDIS_URL) {
    const url = new URL(process.env.REDIS_URL)
    return {
      host: url.hostname,
      port: Number(url.port || 6379),
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
      ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
      ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    }
  }
  return { host: process.env.REDIS_HOST || '127.0.0.1', port: Number(process.env.REDIS_PORT || 6379) }
}

/**
 * Resolves once `client` (a Worker, Queue or QueueEvents) is connected; exits 1 with
 * a readable line if Redis does not answer.
 */
export async function readyOrExit(name, client, connection, ms = 10_000) {
  let timer
  const late = new Promise((resolve) => (timer = setTimeout(resolve, ms, 'late')))
  const result = await Promise.race([client.waitUntilReady().then(() => 'ready'), late])
  clearTimeout(timer)
  if (result === 'late') {
    console.error(
      `${name}: Redis at ${connection.host}:${connection.port} did not answer ` +
        `within ${ms / 1000} s (set REDIS_URL, or REDIS_HOST / REDIS_PORT)`,
    )
    process.exit(1)
  }
}
