import { callAdapterContract, callHarnessFor } from '@tcp-user-timeout/test-utils'

callAdapterContract(callHarnessFor('grpc'))
