import express from 'express4'
import { adapterContract } from '@tcp-user-timeout/test-utils'
import { expressHarness } from './express.harness.js'

adapterContract(expressHarness('express 4', express))
