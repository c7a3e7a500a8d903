// An ESM app: `import`s Express, the adapter and the core (their ESM builds).
// No top-level await: the same file is also bundled as CommonJS.
import express from 'express'
import { tcpUserTimeout } from '@tcp-user-timeout/express'
import { getUserTimeout, support } from '@tcp-user-timeout/core'
import { scenario } from './scenario.mjs'

scenario({ express, tcpUserTimeout, support, getUserTimeout }).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
