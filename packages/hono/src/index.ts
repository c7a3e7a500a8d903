export { tcpUserTimeout, override, type HonoTcpUserTimeoutOptions } from './middleware.js'
// One line to reap connections whose client vanished: hardenServer(serve({ fetch: app.fetch })).
export { hardenServer, type HardenOptions } from '@tcp-user-timeout/core'
