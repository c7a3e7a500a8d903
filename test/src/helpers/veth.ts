/**
 * Two network namespaces of our own joined by a veth pair (root, like
 * @tcp-user-timeout/test-utils/netns): a dead link between two hosts while each keeps its own `lo`
 * alive. Side `a` gets 10.200.0.1/30, side `b` 10.200.0.2/30; these
 * addresses exist only inside the two namespaces. `cut()` takes b's end
 * down, so what `a` sends to `b` is lost without a word, as with a peer that
 * vanished:
 *
 * - static (permanent) neighbour entries: no ARP, so no neighbour failure
 *   turns into a locally generated ICMP host-unreachable (TCP would report
 *   that soft error, EHOSTUNREACH, instead of ETIMEDOUT);
 * - a pfifo qdisc on each end: veth's default is noqueue, and then a send to
 *   a peer whose link is down fails in the sender's own stack (NET_XMIT_DROP),
 *   so TCP does not count the segment as sent and sits in its persist timer
 *   until linkwatch (up to 1 s later) swaps in the noop qdisc. Behind a
 *   qdisc the drop happens after the enqueue: TCP sees the segment leave and
 *   its retransmission timer (and TCP_USER_TIMEOUT) run from the cut.
 *
 * Both namespaces come from `createNetns()`: should a run end before its
 * teardown, the 'exit' hook of test-utils/netns deletes them (and the pair
 * with them).
 */
import { execFile, execFileSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { canUseNetns, createNetns, deleteNetns, stderrOf, type NetnsSupport } from '@tcp-user-timeout/test-utils/netns'
import type { Teardown } from '@tcp-user-timeout/test-utils/teardown'

const execFileAsync = promisify(execFile)
const CMD_TIMEOUT_MS = 5000

export interface VethEnd {
  readonly ns: string
  readonly dev: string
  readonly address: string
}

export interface LinkedNamespaces {
  readonly a: VethEnd
  readonly b: VethEnd
  /**
   * Takes b's end down (a's packets to b are dropped from then on). Resolves
   * with `performance.now()` before the `ip` command started and after it
   * returned: the link went down in between, and on a loaded machine the
   * command's own start-up can take tens of milliseconds, so a bound's lower
   * edge is measured from `startedAt` and its upper edge from `doneAt`.
   */
  cut(): Promise<{ startedAt: number; doneAt: number }>
  /** Deletes both namespaces (and so the pair). Idempotent. */
  close(): Promise<void>
}

const A = { dev: 'tut-a', address: '10.200.0.1', mac: '02:00:0a:c8:00:01' }
const B = { dev: 'tut-b', address: '10.200.0.2', mac: '02:00:0a:c8:00:02' }
const PREFIX = 30

/** The commands that build the pair between namespaces `a` and `b` (both exist, `lo` up). */
function pairCommands(a: string, b: string): string[][] {
  return [
    [
      'ip',
      '-n',
      a,
      'link',
      'add',
      A.dev,
      'address',
      A.mac,
      'type',
      'veth',
      'peer',
      'name',
      B.dev,
      'address',
      B.mac,
      'netns',
      b,
    ],
    ['ip', '-n', a, 'addr', 'add', `${A.address}/${PREFIX}`, 'dev', A.dev],
    ['ip', '-n', b, 'addr', 'add', `${B.address}/${PREFIX}`, 'dev', B.dev],
    ['ip', '-n', a, 'neigh', 'replace', B.address, 'lladdr', B.mac, 'dev', A.dev, 'nud', 'permanent'],
    ['ip', '-n', b, 'neigh', 'replace', A.address, 'lladdr', A.mac, 'dev', B.dev, 'nud', 'permanent'],
    ['ip', 'netns', 'exec', a, 'tc', 'qdisc', 'replace', 'dev', A.dev, 'root', 'pfifo'],
    ['ip', 'netns', 'exec', b, 'tc', 'qdisc', 'replace', 'dev', B.dev, 'root', 'pfifo'],
    ['ip', '-n', a, 'link', 'set', A.dev, 'up'],
    ['ip', '-n', b, 'link', 'set', B.dev, 'up'],
  ]
}

async function run([cmd, ...args]: string[]): Promise<void> {
  await execFileAsync(cmd, args, { timeout: CMD_TIMEOUT_MS })
}

/** Makes two namespaces and joins them (see the file comment), deleted with `t`. On failure nothing is left behind. */
export async function createLinkedNamespaces(t: Teardown): Promise<LinkedNamespaces> {
  const a = await createNetns()
  let b: string | undefined
  let closing: Promise<void> | undefined
  const close = () =>
    (closing ??= Promise.all([deleteNetns(a), b === undefined ? undefined : deleteNetns(b)]).then(() => {}))
  try {
    b = await createNetns()
    for (const command of pairCommands(a, b)) await run(command)
  } catch (error) {
    await close()
    throw new Error(`could not join two network namespaces with a veth pair: ${stderrOf(error)}`, { cause: error })
  }
  const bNs = b
  return t.defer(
    {
      a: { ns: a, dev: A.dev, address: A.address },
      b: { ns: bNs, dev: B.dev, address: B.address },
      async cut() {
        const startedAt = performance.now()
        await run(['ip', '-n', bNs, 'link', 'set', B.dev, 'down'])
        return { startedAt, doneAt: performance.now() }
      },
      close,
    },
    (linked) => linked.close(),
  )
}

let support: NetnsSupport | undefined

/**
 * Namespaces usable (canUseNetns) and a veth pair with qdiscs and static
 * neighbours can be built between two of them (tried once, cached, torn
 * down at once). Never throws.
 */
export function canLinkNamespaces(): NetnsSupport {
  if (support) return support
  const netns = canUseNetns()
  if (!netns.ok) return (support = netns)
  const a = `tut-${process.pid}-vprobe-a`
  const b = `tut-${process.pid}-vprobe-b`
  const sync = ([cmd, ...args]: string[]) =>
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: CMD_TIMEOUT_MS })
  const made: string[] = []
  try {
    for (const name of [a, b]) {
      sync(['ip', 'netns', 'add', name])
      made.push(name)
      sync(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
    }
    for (const command of pairCommands(a, b)) sync(command)
    support = { ok: true }
  } catch (error) {
    support = {
      ok: false,
      reason: `a veth pair between two network namespaces could not be set up: ${stderrOf(error)}`,
    }
  } finally {
    for (const name of made) {
      try {
        sync(['ip', 'netns', 'del', name])
      } catch {
        // Left behind only if deletion itself fails; nothing more to do.
      }
    }
  }
  return support
}
