import type { HostMatcher } from './exempt.js'
import type { Scope } from './shared.js'

/** One frozen scope per distinct budget, bounded, so a request allocates none. */
export class ScopeCache {
  private readonly scopes = new Map<number, Scope>()
  constructor(private readonly exempt: HostMatcher | undefined) {}
  get(ms: number): Scope {
    let scope = this.scopes.get(ms)
    if (scope === undefined) {
      scope = Object.freeze({ ms, exempt: this.exempt })
      if (this.scopes.size < 1024) this.scopes.set(ms, scope)
    }
    return scope
  }
}
