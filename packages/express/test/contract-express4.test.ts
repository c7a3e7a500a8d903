import { createRequire } from 'node:module'
import { adapterContract, harnessFor } from '@tcp-user-timeout/test-utils'

// `express4` is an npm alias of express@4, which ships no types; the fixture takes any Express.
const express: unknown = createRequire(import.meta.url)('express4')

adapterContract(harnessFor('express', { name: 'express 4', app: { express } }))
