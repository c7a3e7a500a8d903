import { adapterContract } from '@tcp-user-timeout/test-utils'
import { koaHarness } from './koa.harness.js'

adapterContract(koaHarness)
