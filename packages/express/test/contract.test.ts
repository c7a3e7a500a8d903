import { adapterContract, harnessFor } from '@tcp-user-timeout/test-utils'

adapterContract(harnessFor('express', { name: 'express 5' }))
