// The client socket under an HTTP/2 session or a @grpc/grpc-js channel, to
// read TCP_USER_TIMEOUT back from the connection that really carries the
// streams. Plain JavaScript (typed by index.d.ts): the namespaced children
// and the benches run under plain `node`.
//
// `session.socket` is not it: Node hands out a Proxy of the session there,
// which is neither the socket core bound nor usable as one. The real socket
// is the session's own property keyed by Symbol(socket); where the session
// had to wrap a socket without a stream handle it is a JSStreamSocket, whose
// `.stream` is the original. Node clears that property once the session has
// closed: read it while the session is open.

/** The socket carrying `session` (a ClientHttp2Session), or undefined once the session has closed. */
export function sessionSocket(session) {
  const key = Object.getOwnPropertySymbols(session).find((symbol) => symbol.description === 'socket')
  if (key === undefined) {
    throw new Error('sessionSocket: the session has no own Symbol(socket) (have node:http2 internals changed?)')
  }
  const socket = session[key]
  return socket?.constructor?.name === 'JSStreamSocket' ? socket.stream : socket
}

/**
 * The sockets of a grpc-js channel's (or client's) connected subchannels.
 * grpc-js exposes none: the channel keeps the subchannels it uses in
 * `internalChannel.wrappedSubchannels`, a subchannel's live connection is
 * `transport`, and its ClientHttp2Session `transport.session` (1.14).
 * Throws, naming the step, where those fields are not there.
 */
export function grpcChannelSockets(clientOrChannel) {
  const channel = typeof clientOrChannel.getChannel === 'function' ? clientOrChannel.getChannel() : clientOrChannel
  const subchannels = channel.internalChannel?.wrappedSubchannels
  if (!(subchannels instanceof Set)) {
    throw new Error(
      'grpcChannelSockets: no internalChannel.wrappedSubchannels on the channel (a grpc-js version other than 1.14?)',
    )
  }
  const sockets = new Set()
  for (const wrapper of subchannels) {
    if (typeof wrapper.getRealSubchannel !== 'function')
      throw new Error('grpcChannelSockets: a subchannel wrapper without getRealSubchannel()')
    const session = wrapper.getRealSubchannel().transport?.session
    const socket = session === undefined ? undefined : sessionSocket(session)
    if (socket !== undefined) sockets.add(socket)
  }
  return [...sockets]
}
