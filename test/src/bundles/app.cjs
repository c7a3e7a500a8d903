// A CommonJS app: `require()`s Express, the adapter and the core (their CommonJS builds).
const express = require('express')
const { tcpUserTimeout } = require('@tcp-user-timeout/express')
const { getUserTimeout, support } = require('@tcp-user-timeout/core')
const { scenario } = require('./scenario.mjs')

scenario({ express, tcpUserTimeout, support, getUserTimeout }).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
