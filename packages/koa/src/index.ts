export { tcpUserTimeout, override } from './middleware.js'
export type { KoaTcpUserTimeoutOptions } from './middleware.js'
