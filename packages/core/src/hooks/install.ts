import { shared } from '../shared.js'
import { installHttp } from './http.js'
import { installNet } from './net.js'
import { installNetChannel } from './net-channel.js'
import { installUndici } from './undici.js'

/**
 * Installs the client hooks (done when the package is imported). Idempotent,
 * shared by the ESM and CommonJS builds. On platforms other than Linux it
 * installs nothing and returns false.
 */
export function install(): boolean {
  if (shared.uninstall !== undefined) return true
  if (process.platform !== 'linux') return false
  const undo = [installNet(), installNetChannel(), installHttp(), installUndici()]
  shared.uninstall = () => {
    for (const u of undo) u()
    shared.uninstall = undefined
  }
  return true
}

/** Removes the client hooks; sockets already bound keep their value. */
export function uninstall(): void {
  shared.uninstall?.()
}

export function installed(): boolean {
  return shared.uninstall !== undefined
}
