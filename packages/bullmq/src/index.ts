export { withTcpUserTimeout } from './processor.js'
export type { AnyProcessor } from './processor.js'
export type {
  BullMQLimitOptions,
  BullMQSecondsOptions,
  BullMQSharedOptions,
  BullMQTcpUserTimeoutOptions,
} from './options.js'
