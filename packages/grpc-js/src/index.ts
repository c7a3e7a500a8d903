import { patchPeer } from './queued-calls.js'

// At import, once: the application's @grpc/grpc-js replays each queued
// call's work in the scope where the call was made (queued-calls.ts).
// Never throws; if it cannot, withUserTimeout/tcpUserTimeout say why once.
patchPeer()

export { withUserTimeout } from './credentials.js'
export type { UserTimeoutOptions } from './credentials.js'
export { tcpUserTimeout } from './service.js'
export type { GrpcServerCall, GrpcTcpUserTimeoutOptions } from './service.js'
export { hardenServer } from './harden.js'
export type { HardenOptions } from '@tcp-user-timeout/core'
