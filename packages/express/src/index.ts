export { tcpUserTimeout, override } from './middleware.js'
export type { ExpressTcpUserTimeoutOptions } from './middleware.js'
