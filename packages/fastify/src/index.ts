export { tcpUserTimeout, tcpUserTimeout as default } from './plugin.js'
export type { FastifyTcpUserTimeoutOptions, FastifyTcpUserTimeoutPluginOptions } from './plugin.js'
