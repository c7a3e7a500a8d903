import * as grpc from '@grpc/grpc-js'
import type { Server as NetServer } from 'node:net'
import { describe, expect, test } from 'tstyche'
import type { HardenOptions as CoreHardenOptions } from '@tcp-user-timeout/core'
import type { TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import {
  hardenServer,
  tcpUserTimeout,
  withUserTimeout,
  type GrpcServerCall,
  type GrpcTcpUserTimeoutOptions,
  type HardenOptions,
  type UserTimeoutOptions,
} from '@tcp-user-timeout/grpc-js'

declare const service: grpc.ServiceDefinition
declare const netServer: NetServer
const server = new grpc.Server()
const insecure = grpc.credentials.createInsecure()

interface Greeter extends grpc.UntypedServiceImplementation {
  sayHello: grpc.handleUnaryCall<{ name: string }, { message: string }>
}
declare const greeter: Greeter

describe('withUserTimeout(credentials, options?)', () => {
  test('is channel credentials, for any channel or client', () => {
    expect(withUserTimeout(insecure)).type.toBe<grpc.ChannelCredentials>()
    expect(
      withUserTimeout(grpc.credentials.createSsl(), { userTimeoutSeconds: 20 }),
    ).type.toBe<grpc.ChannelCredentials>()
    expect(
      new grpc.Client('localhost:50051', withUserTimeout(insecure), { 'grpc.keepalive_time_ms': 30_000 }),
    ).type.not.toRaiseError()
    expect(
      withUserTimeout(grpc.credentials.createSsl()).compose(grpc.credentials.createEmpty()),
    ).type.toBe<grpc.ChannelCredentials>()
    expect<UserTimeoutOptions>().type.toBe<{ userTimeoutSeconds?: number }>()
  })

  test('wrong arguments are errors', () => {
    expect(withUserTimeout()).type.toRaiseError('Expected 1-2 arguments')
    expect(withUserTimeout({})).type.toRaiseError()
    expect(withUserTimeout(grpc.ServerCredentials.createInsecure())).type.toRaiseError()
    expect(withUserTimeout(insecure, { userTimeoutSeconds: '20' })).type.toRaiseError("Type 'string' is not assignable")
    expect(withUserTimeout(insecure, { seconds: 20 })).type.toRaiseError(
      "'seconds' does not exist in type 'UserTimeoutOptions'",
    )
  })
})

describe('tcpUserTimeout(implementation, options)', () => {
  test('is the implementation, for addService', () => {
    expect(tcpUserTimeout(greeter, { seconds: 25 })).type.toBe<Greeter>()
    expect(
      server.addService(service, tcpUserTimeout(greeter, { seconds: 25, header: 'x-request-timeout-s' })),
    ).type.not.toRaiseError()
    expect(
      server.addService(service, tcpUserTimeout({ sayHello: greeter.sayHello }, { workerTimeoutSeconds: 30 })),
    ).type.not.toRaiseError()
  })

  test('a seconds callback gets the call, whatever its kind', () => {
    tcpUserTimeout(greeter, {
      seconds: (call) => {
        expect(call).type.toBe<GrpcServerCall>()
        return call.getPath() === '/helloworld.Greeter/Export' ? 300 : 25
      },
    })
    expect(
      tcpUserTimeout(greeter, { seconds: (call) => (call.metadata.get('x-fast').length > 0 ? undefined : false) }),
    ).type.toBe<Greeter>()
    expect<GrpcTcpUserTimeoutOptions>().type.toBe<TcpUserTimeoutOptions<GrpcServerCall>>()
    expect<GrpcServerCall>().type.toBeAssignableFrom<grpc.ServerUnaryCall<unknown, unknown>>()
    expect<GrpcServerCall>().type.toBeAssignableFrom<grpc.ServerDuplexStream<unknown, unknown>>()
  })

  test('wrong arguments are errors', () => {
    expect(tcpUserTimeout(greeter)).type.toRaiseError('Expected 2 arguments')
    expect(tcpUserTimeout(25, { seconds: 25 })).type.toRaiseError()
    expect(tcpUserTimeout(greeter, {})).type.toRaiseError()
    expect(tcpUserTimeout(greeter, { seconds: '25' })).type.toRaiseError("Type 'string' is not assignable")
    expect(tcpUserTimeout(greeter, { seconds: (call) => call.request })).type.toRaiseError("'request' does not exist")
    expect(tcpUserTimeout(greeter, { seconds: 25, headerFormat: 'ms' })).type.toRaiseError(
      `Type '"ms"' is not assignable`,
    )
    expect(tcpUserTimeout(greeter, { secs: 25 })).type.toRaiseError("'secs' does not exist")
  })
})

describe('hardenServer(server, options?)', () => {
  test("takes a grpc-js Server and the core's options; returns an undo", () => {
    expect(hardenServer(server)).type.toBe<() => void>()
    expect(
      hardenServer(server, { userTimeoutSeconds: 20, keepAlive: { idleSeconds: 15, intervalSeconds: 15, count: 9 } }),
    ).type.toBe<() => void>()
    expect<HardenOptions>().type.toBe<CoreHardenOptions>()
  })

  test('anything else is an error', () => {
    expect(hardenServer(netServer)).type.toRaiseError()
    expect(hardenServer(server, { userTimeoutSeconds: '20' })).type.toRaiseError("Type 'string' is not assignable")
    expect(hardenServer(server, { reap: true })).type.toRaiseError("'reap' does not exist")
  })
})
