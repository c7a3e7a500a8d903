// A worker that `require()`s the core (its CommonJS build), uses it, reports and exits.
const { parentPort, workerData } = require('node:worker_threads')
const core = require('@tcp-user-timeout/core')
const { exercise } = require('./exercise.cjs')

exercise(core, workerData).then((result) => parentPort.postMessage({ build: 'cjs', ...result }))
