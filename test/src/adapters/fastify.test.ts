import { adapterContract } from '@tcp-user-timeout/test-utils'
import { fastifyHarness } from './fastify.harness.js'

adapterContract(fastifyHarness)
