import { describe, InvalidOptionError } from './errors.js'

export type HostPattern = string | RegExp
export type HostMatcher = (host: string) => boolean

/**
 * Compiles `exemptHosts` once, at configuration time. Strings match a host
 * exactly (case-insensitive, IPv6 brackets ignored); RegExps are tested
 * against the bare host name.
 */
export function compileExemptHosts(hosts: unknown, name = 'exemptHosts'): HostMatcher | undefined {
  if (hosts === undefined) return undefined
  if (!Array.isArray(hosts)) {
    throw new InvalidOptionError(`${name} must be an array of host names or RegExps, received ${describe(hosts)}`)
  }
  const exact = new Set<string>()
  const patterns: RegExp[] = []
  for (const [i, host] of hosts.entries()) {
    if (typeof host === 'string' && host.length > 0) exact.add(normalizeHost(host))
    else if (host instanceof RegExp) patterns.push(new RegExp(host.source, host.flags.replace(/[gy]/g, '')))
    else {
      throw new InvalidOptionError(
        `${name}[${i}] must be a non-empty string or a RegExp, ` +
          `received ${describe(host)}; e.g. exemptHosts: ['db.internal', /\\.cache\\.local$/]`,
      )
    }
  }
  if (exact.size === 0 && patterns.length === 0) return undefined
  return (host) => {
    const h = normalizeHost(host)
    if (exact.has(h)) return true
    for (const re of patterns) if (re.test(h)) return true
    return false
  }
}

export function normalizeHost(host: string): string {
  const h = host.toLowerCase()
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h
}

/** The host of an origin such as `https://api.example.com:8443`, or the input itself. */
export function hostOfOrigin(origin: unknown): string {
  if (origin instanceof URL) return origin.hostname
  if (typeof origin !== 'string') return ''
  try {
    return new URL(origin).hostname
  } catch {
    return origin
  }
}
