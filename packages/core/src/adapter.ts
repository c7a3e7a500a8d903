// What an adapter author uses (ADAPTERS.md). One build with the main entry:
// the two share their modules, so their state and classes are one.
import './boot.js'

export { createPolicy } from './policy.js'
export type { Policy, PolicyName, PolicyOption, PolicyPlace, PolicyWords, SecondsCallback, TcpUserTimeoutOptions } from './policy.js'
export type { SecondsBudgetOptions, SharedOptions, WorkerBudgetOptions } from './policy.js'
export type { HeaderFormat } from './header.js'
export type { HostPattern } from './exempt.js'
export { runInScope, currentScope } from './scope.js'
export { runUntilSettled } from './lease.js'
export { scopeResponseBody } from './request.js'
export { wrap, unwrap, isWrapped } from './patch.js'
export type { Hook } from './patch.js'
export type { Scope, ScopeEnd } from './shared.js'
export { reportOnce } from './diagnostics.js'
export { readBudget } from './validate.js'
export type { RequestBudget } from './validate.js'
