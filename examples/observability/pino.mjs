// Socket deadlines in a pino log: one line per timeout (warn) and per error
// the library kept from the application (error), and, at debug, one per
// bound set. Each line carries the event's fields: type, ms, direction, peer,
// code, message.
//
//   import pino from 'pino'
//   import { logTcpUserTimeouts } from './pino.mjs'
//   logTcpUserTimeouts(pino())
//
// Copy this file: it depends on nothing but the core (pino is your logger).

import { observe } from '@tcp-user-timeout/core'

/**
 * Logs the library's events with `logger` (a pino logger, or a child of
 * one: `logger.child({ component: 'http' })`). Returns the observer:
 * `close()` stops the logging.
 *
 * @param {import('pino').Logger} logger
 * @param {{ bindLevel?: import('pino').Level | 'silent' }} [options] the level of the bind lines (default `debug`)
 * @returns {import('@tcp-user-timeout/core').Observer}
 */
export function logTcpUserTimeouts(logger, { bindLevel = 'debug' } = {}) {
  return observe(function logTcpUserTimeoutEvent(event) {
    switch (event.type) {
      case 'timeout':
        logger.warn(
          event,
          `socket to ${event.peer ?? 'an unknown peer'} timed out: ` +
            `no acknowledgement within ${event.ms} ms (${event.direction})`,
        )
        break
      case 'error':
        logger.error(event, `tcp-user-timeout kept an error from the application: ${event.message}`)
        break
      case 'bind':
        // A bind happens on every new socket: build nothing when the level is off.
        if (bindLevel !== 'silent' && logger.isLevelEnabled(bindLevel)) {
          logger[bindLevel](
            event,
            event.ms === 0 ? 'socket bound put back to the system default' : `socket bounded to ${event.ms} ms`,
          )
        }
        break
    }
  })
}
