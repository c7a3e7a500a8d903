// HTTP/2 and gRPC pieces of the test kit, shared by the tests, the benches
// and the examples: upstreams that hold streams until told (upstream.mjs)
// and the reader of the socket under a session or a channel
// (session-socket.mjs). Typed by index.d.ts.
export { Holds, startGrpcUpstream, startHttp2Upstream } from './upstream.mjs'
export { grpcChannelSockets, sessionSocket } from './session-socket.mjs'
