export { withTcpUserTimeout } from './processor.js'
export type { AnyProcessor } from './processor.js'
export type { BullMQTcpUserTimeoutOptions } from './options.js'
