// The Quotes service of quotes.proto, loaded as most grpc-js apps load
// theirs (proto-loader at run time), for server.mjs and client.mjs.
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

const definition = protoLoader.loadSync(fileURLToPath(new URL('./quotes.proto', import.meta.url)), { defaults: true })

export const { Quotes } = grpc.loadPackageDefinition(definition).quotes

/**
 * Keepalive on both ends, as gRPC A18 pairs it with TCP_USER_TIMEOUT: a ping
 * after 30 s without traffic, given up after 10 s; the pinned channel and
 * the hardened server take 10 s as their connections' user timeout.
 */
export const KEEPALIVE = { 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 }
