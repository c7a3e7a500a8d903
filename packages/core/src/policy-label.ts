import { describe, InvalidArgumentError } from './errors.js'

/** The options of the policy, by their names in TcpUserTimeoutOptions. */
export type PolicyOption =
  'seconds' | 'workerTimeoutSeconds' | 'header' | 'headerFormat' | 'minSeconds' | 'exemptHosts' | 'allowLongBudget'

/**
 * An API's option names: each key a user may give, and the policy option it
 * is, or null for one the adapter reads itself (BullMQ's `jobDataKey`).
 */
export type PolicyKeys = Readonly<Record<string, PolicyOption | null>>

/** The adapters the core words messages for. */
export type PolicyFramework = 'express' | 'koa' | 'fastify' | 'hono' | 'grpc-js' | 'bullmq'

/**
 * Where options were given, as data; the core words every message about
 * them from it. A string is the name of a function that takes the options
 * or `false` (a third party's adapter): messages start `name():`.
 */
export type PolicyLabel = string | PolicyApi | PolicyRoute

/** A function of one of the adapters: `{ api: 'tcpUserTimeout', framework: 'express' }`. */
export interface PolicyApi {
  readonly framework: PolicyFramework
  /** `tcpUserTimeout`, a route's `override` (Express, Koa, Hono; it takes `false`), `withTcpUserTimeout`. */
  readonly api: string
  /** How the API names the options, when not as the policy does (BullMQ's `maxExecutionSeconds`). */
  readonly keys?: PolicyKeys
}

/** A route's own options, in its `config.tcpUserTimeout`: `{ framework: 'fastify', route: 'GET /y' }`. */
export interface PolicyRoute {
  readonly framework: 'fastify'
  /** The route as `METHOD url`. */
  readonly route: string
}

/** Every option, each under its own name: what the web adapters and gRPC take. */
const POLICY_KEYS: PolicyKeys = Object.freeze({
  seconds: 'seconds',
  workerTimeoutSeconds: 'workerTimeoutSeconds',
  header: 'header',
  headerFormat: 'headerFormat',
  minSeconds: 'minSeconds',
  exemptHosts: 'exemptHosts',
  allowLongBudget: 'allowLongBudget',
})

/** What the core knows of a framework, to show a fix in its users' code. */
interface Framework {
  /** A `seconds` callback's parameter, as the framework's docs name it. */
  readonly request: string
  /** A test of that parameter singling out one `unit` that should run unbound. */
  readonly pick: string
  readonly unit: 'route' | 'method' | 'job'
  /** Its other way to run one unbound, if it has one. */
  readonly also?: string
  /** It exports a route's `override(options | false)`. */
  readonly override?: true
  /** What asks for a budget at request time, which can only tighten one. */
  readonly asked: string
  /** A job runner: its budget is usually the job's own time limit, and a callback answers undefined for that. */
  readonly jobs?: true
}

const OVERRIDE_IN_LIST = { also: "put override(false) in the route's list", override: true } as const

const FRAMEWORKS: Readonly<Record<PolicyFramework, Framework>> = {
  express: { request: 'req', pick: 'req.path === "/stream"', unit: 'route', ...OVERRIDE_IN_LIST, asked: 'a header' },
  koa: { request: 'ctx', pick: 'ctx.path === "/stream"', unit: 'route', ...OVERRIDE_IN_LIST, asked: 'a header' },
  hono: {
    request: 'c',
    pick: 'c.req.path === "/stream"',
    unit: 'route',
    also: "put override(false) in the route's handlers",
    override: true,
    asked: 'a header',
  },
  fastify: {
    request: 'request',
    pick: 'request.url === "/stream"',
    unit: 'route',
    also: 'give the route config: { tcpUserTimeout: false }',
    asked: 'a header',
  },
  'grpc-js': {
    request: 'call',
    pick: 'call.getPath() === "/pkg.Service/Watch"',
    unit: 'method',
    asked: "a call's deadline or header",
  },
  bullmq: {
    request: 'job',
    pick: 'job.name === "export"',
    unit: 'job',
    also: 'do not wrap the processor',
    asked: 'job data',
    jobs: true,
  },
}

/** A label, worded: what every message about the options says of where they were given. */
export interface Place {
  /** What messages start with: `tcpUserTimeout()`, `GET /y config.tcpUserTimeout`. */
  readonly at: string
  readonly keys: PolicyKeys
  /** The API's name of a policy option. */
  key(option: PolicyOption): string
  /** How to turn the bound off there, for the error on a budget of 0. */
  readonly off: string
  /** An options object to show. */
  readonly example: string
  /** The error when no budget is given: the forms a budget takes. */
  readonly needsBudget: string
  /** A `seconds` callback's signature, for the error on a `seconds` of another type. */
  readonly callback: string
}

/** What the core says of a label. Throws an InvalidArgumentError for one that is none (an adapter's bug). */
export function placeOf(label: PolicyLabel): Place {
  if (typeof label === 'string') return worded(`${label}()`, POLICY_KEYS, undefined, () => inPlaceOf(label))
  const framework = frameworkOf(label)
  const keys = ('keys' in label ? label.keys : undefined) ?? POLICY_KEYS
  if ('route' in label) return worded(`${label.route} config.tcpUserTimeout`, keys, framework, () => ROUTE_OFF)
  // A route's override takes false in place of its options, as a third party's function does.
  if (label.api === 'override' && framework.override) {
    return worded('override()', keys, framework, () => inPlaceOf('override'))
  }
  return worded(`${label.api}()`, keys, framework, (limit) => callbackOff(framework, limit))
}

const ROUTE_OFF = 'give config: { tcpUserTimeout: false }'

function inPlaceOf(fn: string): string {
  return `give ${fn}(false) in place of the options`
}

function frameworkOf(label: PolicyApi | PolicyRoute): Framework {
  const known = label !== null && typeof label === 'object' && Object.hasOwn(FRAMEWORKS, label.framework)
  if (known) return FRAMEWORKS[label.framework]
  throw new InvalidArgumentError(
    "createPolicy(options, label): label must be a function's name or { api, framework } with a framework of " +
      `${Object.keys(FRAMEWORKS).join(', ')}, received ${describe(label)}`,
  )
}

/** `off`: the advice for turning the bound off there, given the name of the limit option. */
function worded(at: string, keys: PolicyKeys, framework: Framework | undefined, off: (limit: string) => string): Place {
  const names = new Map<PolicyOption, string>()
  for (const [name, option] of Object.entries(keys)) if (option !== null && !names.has(option)) names.set(option, name)
  const key = (option: PolicyOption) => names.get(option) ?? option
  const limit = key('workerTimeoutSeconds')
  const asked = framework === undefined ? '' : `; ${framework.asked} can only tighten it, never supply it`
  // `req` stands for any framework's request, as in the docs; the `off` advice names each one's own.
  const forms = `{ seconds: 25 }, { seconds: (${framework?.jobs ? 'job' : 'req'}) => ... } or { ${limit}: 30 }`
  return {
    at,
    keys,
    key,
    off: off(limit),
    example: framework?.jobs ? `{ ${limit}: 30 }` : '{ seconds: 25 }',
    needsBudget: `needs a budget: ${forms}${asked}`,
    callback: `(${framework?.request ?? 'req'}) => seconds | undefined | false`,
  }
}

/** A framework's advice for running one route (method, job) unbound: a callback answering false, or its other way. */
function callbackOff({ request, pick, unit, also, jobs }: Framework, limit: string): string {
  // A job runner's callback falls back on the job's limit; a web one's is the whole budget.
  const example = jobs
    ? `(${request}) => (${pick} ? false : undefined), ${limit}: 30`
    : `(${request}) => (${pick} ? false : 25)`
  return `answer false from a seconds callback for that ${unit} ({ seconds: ${example} })${also ? `, or ${also}` : ''}`
}
