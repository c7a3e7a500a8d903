import { adapterContract } from '@tcp-user-timeout/test-utils'
import { honoHarness } from './hono.harness.js'

adapterContract(honoHarness)
