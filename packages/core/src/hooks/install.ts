import { unwrapAll } from '../patch.js'
import { shared } from '../shared.js'
import { installHttp } from './http.js'
import { installHttp2 } from './http2.js'
import { installNet } from './net.js'
import { installNetChannel } from './net-channel.js'
import { installTls } from './tls.js'
import { installUndici } from './undici.js'

/**
 * Installs the client hooks (done when the package is imported). Once per
 * thread, however many times or in how many realms this package is
 * evaluated: a later evaluation only puts its own code behind the hooks
 * already in place (patch.ts). On platforms other than Linux it installs
 * nothing and returns false.
 */
export function install(): boolean {
  if (process.platform !== 'linux') return false
  installNet()
  installNetChannel()
  installTls()
  installHttp()
  installHttp2()
  installUndici()
  shared.installed = true
  return true
}

/** Removes every hook and patch; sockets already bound keep their value. */
export function uninstall(): void {
  unwrapAll()
  shared.installed = false
}

export function installed(): boolean {
  return shared.installed
}
