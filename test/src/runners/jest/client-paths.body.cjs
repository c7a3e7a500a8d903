'use strict'
// What every generated Jest file runs: it requires the core (so each file
// evaluates it in its own registry and global) and checks every client path
// with a budget of its own, index + 2 seconds, so a bound left by an earlier
// file's layer of hooks shows as a wrong number, not a right one.
const core = require('@tcp-user-timeout/core')
const { probe, report } = require('../probe.cjs')

module.exports = function clientPaths(index) {
  test(`file ${index}: every client path holds this file's budget`, async () => {
    const seconds = index + 2
    const result = await probe({ withTimeout: core.withTimeout, getUserTimeout: core.getUserTimeout, seconds })
    report({ index, seconds, ...result })
  })
}
