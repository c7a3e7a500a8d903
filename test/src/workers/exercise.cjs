// What each worker does with the core it loaded (its ESM or its CommonJS
// build): 20 real client sockets to the loopback server, each connected in its
// own withTimeout scope, read back with getsockopt once connected, then closed.
// CommonJS so that both worker entries can load it (worker.mjs imports it).
const net = require('node:net')

const SOCKETS = 20
const CONNECT_TIMEOUT_MS = 5_000

/** Connects `SOCKETS` sockets in scopes of distinct seconds; returns what the kernel holds for each. */
async function exercise(core, { port, index }) {
  const support = core.support()
  const sockets = []
  try {
    const values = await Promise.all(
      Array.from({ length: SOCKETS }, (_, i) => {
        // Distinct across every socket of the run: worker `index` gets seconds index*20+1 .. index*20+20.
        const seconds = index * SOCKETS + i + 1
        const socket = core.withTimeout(seconds, () => net.connect(port, '127.0.0.1'))
        sockets.push(socket)
        return connected(socket).then(() => ({ want: seconds * 1000, got: core.getUserTimeout(socket) ?? null }))
      }),
    )
    return { support, values }
  } finally {
    for (const socket of sockets) socket.destroy()
  }
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connect did not complete in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS)
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
exports.SOCKETS = SOCKETS
