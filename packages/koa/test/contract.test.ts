import { adapterContract, harnessFor } from '@tcp-user-timeout/test-utils'

adapterContract(harnessFor('koa'))
