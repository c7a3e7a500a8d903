// A worker that `import`s the core (its ESM build), uses it, reports and exits.
import { parentPort, workerData } from 'node:worker_threads'
import * as core from '@tcp-user-timeout/core'
import { exercise } from './exercise.cjs'

parentPort.postMessage({ build: 'esm', ...(await exercise(core, workerData)) })
