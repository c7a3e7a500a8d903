// What each worker does with the core it loaded (its ESM or its CommonJS
// build): 20 real client sockets to the loopback server, each connected in its
// own withTimeout scope, read back with getsockopt once connected, then closed.
// CommonJS so that both worker entries can load it (worker.mjs imports it).
// The hosts/ tests use it too, with 10 sockets per thread.
const net = require('node:net')

const SOCKETS = 20
const CONNECT_TIMEOUT_MS = 5_000

/** Connects `sockets` sockets in scopes of distinct budgets; returns what the kernel holds for each. */
async function exercise(core, { port, index, sockets: count = SOCKETS }) {
  const support = core.support()
  const sockets = []
  try {
    const values = await Promise.all(
      Array.from({ length: count }, (_, i) => {
        // Distinct across every socket of the run, in half seconds (exact in binary) so that the 4,020
        // budgets of the 200-worker run stay under an hour, where the core warns of a seconds/ms mix-up.
        const seconds = (index * count + i + 1) / 2
        const socket = core.withTimeout(seconds, () => net.connect(port, '127.0.0.1'))
        sockets.push(socket)
        return connected(socket).then(() => ({ want: seconds * 1000, got: readBack(core, socket) }))
      }),
    )
    return { support, values }
  } finally {
    for (const socket of sockets) socket.destroy()
  }
}

/**
 * The kernel's value; a read that throws is reported as a wrong value (its error), not as a failure of the whole run.
 */
function readBack(core, socket) {
  try {
    return core.getUserTimeout(socket) ?? null
  } catch (error) {
    return `${error?.name} ${error?.errnoName ?? error?.message}`
  }
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`connect did not complete in ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    )
    socket.once('connect', () => {
      clearTimeout(timer)
      resolve()
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

exports.exercise = exercise
exports.connected = connected
exports.SOCKETS = SOCKETS
