export { tcpUserTimeout, override } from './middleware.js'
export type { KoaTcpUserTimeoutOptions } from './middleware.js'
// One line to reap connections whose client vanished: hardenServer(app.listen(3000)).
export { hardenServer } from '@tcp-user-timeout/core'
export type { HardenOptions } from '@tcp-user-timeout/core'
