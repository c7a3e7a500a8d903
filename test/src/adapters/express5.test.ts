import express from 'express'
import { adapterContract } from '@tcp-user-timeout/test-utils'
import { expressHarness } from './express.harness.js'

adapterContract(expressHarness('express 5', express))
