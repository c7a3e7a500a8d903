import { spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import type { Teardown } from './teardown.js'

/** Connections the kernel queues for a listener of backlog 1 before it drops SYNs (Linux: backlog + 1). */
const BACKLOG = 1
const QUEUED = BACKLOG + 1
const READY_TIMEOUT_MS = 5000

export interface BlackHole {
  /** The port; the same on every host. */
  readonly port: number
  readonly hosts: readonly string[]
}

/**
 * A loopback address:port that never answers a SYN, without root: a child
 * process listens with backlog 1 and is stopped (SIGSTOP) so that it never
 * accepts; two connections fill its accept queue, after which Linux drops
 * every new SYN silently, as a black-holed host does. Hosts are loopback
 * addresses (127.0.0.2 needs no setup on Linux). Torn down with `t`: the
 * fillers are destroyed and the child killed (SIGKILL works on a stopped
 * process).
 */
export async function startBlackHole(t: Teardown, hosts: readonly string[] = ['127.0.0.1']): Promise<BlackHole> {
  const script = `
    const net = require('node:net')
    const hosts = ${JSON.stringify(hosts)}
    const first = net.createServer().listen({ host: hosts[0], port: 0, backlog: ${BACKLOG} }, () => {
      const port = first.address().port
      let pending = hosts.length - 1
      if (pending === 0) console.log(port)
      for (const host of hosts.slice(1)) {
        net.createServer().listen({ host, port, backlog: ${BACKLOG} }, () => { if (--pending === 0) console.log(port) })
      }
    })`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.defer(child, (c) => {
    c.kill('SIGKILL')
  })
  const [line] = (await withTimeout(once(child.stdout, 'data'), 'the black hole listener did not start')) as [Buffer]
  const port = Number(String(line).trim())
  child.kill('SIGSTOP')
  const fillers: Promise<unknown>[] = []
  for (const host of hosts) {
    for (let i = 0; i < QUEUED; i++) {
      const filler = t.defer(net.connect(port, host), (s) => s.destroy())
      filler.on('error', () => {})
      fillers.push(once(filler, 'connect'))
    }
  }
  await withTimeout(Promise.all(fillers), 'the black hole accept queue did not fill')
  return { port, hosts }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
