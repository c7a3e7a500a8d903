export { tcpUserTimeout, tcpUserTimeout as default } from './plugin.js'
export type { FastifyTcpUserTimeoutOptions } from './plugin.js'
