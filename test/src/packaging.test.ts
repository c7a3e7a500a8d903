import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it, type TestContext } from 'vitest'
import { ADAPTERS, type AdapterKind } from '@tcp-user-timeout/test-utils/apps'
import { perSuite } from '@tcp-user-timeout/test-utils/teardown'
import { describeChild, runCommand, type ChildRun, type RunOptions } from './helpers/child.js'
import { expectNoBinding } from './helpers/no-binding.js'

// The packages as npm users get them: each publishable package is packed
// with `pnpm pack` (which rewrites `workspace:^` to real ranges), installed
// from its tarball with npm into a scratch project outside the workspace, and
// loaded from there by child processes: `import` (ESM build), `require()`
// (CommonJS build, then both builds in one process: one shared state), and
// each adapter's app fixture (test-utils/apps) with the packed adapter in,
// as its README puts it. Which packages: every one under packages/ that is
// not private; an adapter's export list is its fixture's. The tarballs
// are also listed (dist, README, LICENSE, package.json; no sources) and
// checked by publint and arethetypeswrong. A second scratch project
// installs the core with `npm install --omit=optional` (ffi-rs without its
// native binary): the core must then say so once, in a process warning, and
// be a no-op that never throws. Every child process is bounded by a timeout.
//
// attw runs with its default profile, "strict" (node10, node16 from CJS,
// node16 from ESM, bundler): the packages ship a CJS build with its own
// .d.cts behind `require` and `main`/`types` for node10, so no resolution mode
// needs to be excused (--profile node16 would drop node10; esm-only would
// drop the CJS checks). publint runs with --strict: warnings fail too.
//
// The npm install needs the registry (the frameworks, ffi-rs, fastify-plugin)
// or npm's cache: `npm ping` first; reachable, `npm install --prefer-offline`
// must succeed; out of reach, `npm install --offline` (the cache alone) is
// tried, and if it cannot, the install-dependent tests fail under CI (env CI)
// and are skipped, with the reason printed, otherwise. The tarball checks run
// either way.

const TEST_DIR = fileURLToPath(new URL('../', import.meta.url))
const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGES_DIR = join(REPO_DIR, 'packages')
const PACK_SCRIPT = join(REPO_DIR, 'scripts', 'pack.sh')
const NPM_CACHE = join(REPO_DIR, '.cache', 'npm')
const FIXTURES = fileURLToPath(new URL('./packaging/', import.meta.url))
/** The app fixtures, copied into the scratch project: they import only the frameworks and the packed adapters. */
const APPS = join(PACKAGES_DIR, 'test-utils', 'apps')
const BIN = join(TEST_DIR, 'node_modules', '.bin')

const PACK_TIMEOUT_MS = 30_000
const INSTALL_TIMEOUT_MS = 75_000
const TOOL_TIMEOUT_MS = 30_000
const PING_TIMEOUT_MS = 15_000
const SCRIPT_TIMEOUT_MS = 30_000
const IN_CI =
  process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0'

/**
 * What a package's entry exports (checked in both builds, and nothing else:
 * the list is exact); passed to the scripts as spec.json.
 */
interface ExportSpec {
  functions?: string[]
  /** Error classes: the built-in they extend and their `code`. */
  errors?: Record<string, { base: 'TypeError' | 'RangeError' | 'Error'; code: string }>
  objects?: string[]
  /** Exact values (deep-equal). */
  values?: Record<string, unknown>
  /** The default export is this named export. */
  defaultIs?: string
  /** Names the entry must not export (internals). */
  absent?: string[]
}

/** A subpath of a package (`@tcp-user-timeout/core/adapter`): its own exports, from the same build. */
interface Entry extends ExportSpec {
  name: string
  /** The files it resolves to, under dist/. */
  file: string
}

interface Publishable extends ExportSpec {
  /** The folder under packages/. */
  dir: string
  name: string
  /** Documents it ships besides README.md. */
  docs?: string[]
}

/** What neither entry of the core exports: its internals. */
const CORE_INTERNALS = [
  'createScope',
  'runUnscoped',
  'compileExemptHosts',
  'enterRequest',
  'describe',
  'parseDeadlineHeader',
  'channels',
  'publishError',
  'shared',
  'UNBOUNDED',
  'secondsToMs',
  'requestMs',
  'placeOf',
  'readOptions',
  'option',
  'validateBudgets',
  'callbackMs',
]

/** What `@tcp-user-timeout/core/adapter` exports for adapter authors (packages/core/ADAPTERS.md). */
const ADAPTER_FUNCTIONS = [
  'createPolicy',
  'runInScope',
  'currentScope',
  'runUntilSettled',
  'scopeResponseBody',
  'reportOnce',
  'readBudget',
  'wrap',
  'unwrap',
  'isWrapped',
  'subscribe',
  'createScopeEnd',
  'resolveHardening',
  'warn',
  'describeValue',
]

const CORE: Publishable = {
  dir: 'core',
  name: '@tcp-user-timeout/core',
  docs: ['ADAPTERS.md'],
  // What an application uses; each is documented in docs/core.md.
  functions: [
    'setUserTimeout',
    'getUserTimeout',
    'setKeepAliveProbes',
    'getKeepAliveProbes',
    'support',
    'withTimeout',
    'withJobTimeout',
    'currentTimeout',
    'setGlobalDefault',
    'globalDefault',
    'headroom',
    'hardenServer',
    'stats',
    'resetStats',
    'observe',
    'install',
    'uninstall',
    'installed',
  ],
  errors: {
    InvalidArgumentError: { base: 'TypeError', code: 'TUT_ERR_INVALID_ARG' },
    OutOfRangeError: { base: 'RangeError', code: 'TUT_ERR_OUT_OF_RANGE' },
    InvalidOptionError: { base: 'TypeError', code: 'TUT_ERR_INVALID_OPTION' },
    SocketOptionError: { base: 'Error', code: 'TUT_ERR_SOCKOPT' },
  },
  values: {
    CHANNEL_BIND: 'tcp-user-timeout:bind',
    CHANNEL_TIMEOUT: 'tcp-user-timeout:timeout',
    CHANNEL_ERROR: 'tcp-user-timeout:error',
    MAX_MS: 2147483647,
    DEFAULT_KEEPALIVE: { idleSeconds: 15, intervalSeconds: 15, count: 9 },
    codes: {
      INVALID_ARG: 'TUT_ERR_INVALID_ARG',
      OUT_OF_RANGE: 'TUT_ERR_OUT_OF_RANGE',
      INVALID_OPTION: 'TUT_ERR_INVALID_OPTION',
      SOCKOPT: 'TUT_ERR_SOCKOPT',
    },
    warningCodes: {
      NATIVE_UNAVAILABLE: 'TUT_WARN_NATIVE_UNAVAILABLE',
      LONG_BUDGET: 'TUT_WARN_LONG_BUDGET',
      LATE_REGISTRATION: 'TUT_WARN_LATE_REGISTRATION',
      LISTENER_THREW: 'TUT_WARN_LISTENER_THREW',
      GRPC_UNPATCHED: 'TUT_WARN_GRPC_UNPATCHED',
    },
  },
  // The adapter entry's functions are not the application's.
  absent: [...CORE_INTERNALS, ...ADAPTER_FUNCTIONS],
}

/** What an adapter author uses (packages/core/ADAPTERS.md). */
const CORE_ADAPTER: Entry = {
  name: '@tcp-user-timeout/core/adapter',
  file: 'adapter',
  functions: ADAPTER_FUNCTIONS,
  absent: [...CORE_INTERNALS, 'withTimeout', 'InvalidOptionError'],
}
const ENTRIES: Entry[] = [CORE_ADAPTER]

/**
 * Every publishable package (a package.json under packages/ that is not
 * private): the core, and the adapters, each with the exports its app
 * fixture declares. One the fixtures do not declare fails here.
 */
const PUBLISHABLE: Publishable[] = readdirSync(PACKAGES_DIR)
  .filter((dir) => existsSync(join(PACKAGES_DIR, dir, 'package.json')))
  .sort()
  .flatMap((dir) => {
    const { name, private: unpublished } = readManifest(join(PACKAGES_DIR, dir, 'package.json'))
    if (unpublished === true) return []
    if (name === CORE.name) return [CORE]
    const adapter = ADAPTERS.find((a) => a.package === name)
    if (adapter === undefined) throw new Error(`${name} (packages/${dir}) is publishable; no app fixture declares it`)
    const { functions, defaultIs } = adapter.exports
    return [{ dir, name, functions: [...functions], ...(defaultIs === undefined ? {} : { defaultIs }) }]
  })

/** Packages that run code when imported: the core (its client hooks), and the adapters whose fixtures say so. */
const IMPORT_EFFECTS = new Set([CORE.name, ...ADAPTERS.filter((a) => a.sideEffects === true).map((a) => a.package)])

/**
 * What the scratch project installs beside the tarballs: each package's
 * peers (the optional ones left out), at the version its workspace install
 * holds, and what the app fixtures import besides (`needs`), at test-utils'.
 */
function peerVersions(): Record<string, string> {
  const versionIn = (dir: string, name: string) => readManifest(join(dir, 'node_modules', name, 'package.json')).version
  const versions: Record<string, string> = {}
  for (const pkg of PUBLISHABLE) {
    const dir = join(PACKAGES_DIR, pkg.dir)
    const { peerDependencies = {}, peerDependenciesMeta = {} } = readManifest(join(dir, 'package.json'))
    for (const peer of Object.keys(peerDependencies)) {
      if (peerDependenciesMeta[peer]?.optional !== true) versions[peer] = versionIn(dir, peer)
    }
  }
  const testUtils = join(PACKAGES_DIR, 'test-utils')
  for (const need of ADAPTERS.flatMap((a) => a.needs ?? [])) versions[need] = versionIn(testUtils, need)
  return versions
}

const run = runCommand
const describeRun = describeChild

async function runOk(what: string, command: string, args: string[], options: RunOptions): Promise<ChildRun> {
  const r = await run(command, args, options)
  if (r.code !== 0) throw new Error(describeRun(what, r))
  return r
}

/** `items` through `fn`, `limit` at a time (a 2-CPU machine shared with others). */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** npm settings a user or CI may give through the environment (a mirror, a proxy, a cache): passed on. */
const NPM_NETWORK_SETTINGS = /^npm_config_(registry|cache|proxy|https_proxy|noproxy|no_proxy|cafile|ca|strict_ssl)$/i

/**
 * The env for npm and the scripts: ours, minus the npm_* / pnpm_* variables
 * pnpm and vitest ran us with (lifecycle and pnpm-only settings), except the
 * network settings above, and NODE_PATH.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_)/i.test(key) && !NPM_NETWORK_SETTINGS.test(key)) continue
    // NODE_PATH: pnpm's bin shims (vitest's among them) point it at the
    // workspace's hoisted node_modules, where a scratch project would then
    // find packages its own install left out (ffi-rs's native binary).
    if (key === 'NODE_OPTIONS' || key === 'NODE_PATH' || key.startsWith('VITEST')) continue
    env[key] = value
  }
  env.npm_config_update_notifier = 'false'
  // npm's cache and logs stay in the project (as its .npmrc says for commands
  // run there), unless the caller chose a cache.
  env.npm_config_cache ??= NPM_CACHE
  env.npm_config_logs_dir = join(env.npm_config_cache, '_logs')
  return env
}

interface Packed {
  pkg: Publishable
  tarball: string
  files: string[]
  manifest: PackageManifest
}

interface PackageManifest {
  name: string
  version: string
  main?: string
  module?: string
  types?: string
  exports?: Record<string, unknown>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  private?: boolean
  devDependencies?: Record<string, string>
  repository?: { type?: string; url?: string; directory?: string }
  homepage?: string
  bugs?: { url?: string }
  keywords?: string[]
  license?: string
  files?: string[]
  sideEffects?: boolean | string[]
}

/** The repository every package links to, from the root package.json: `git+https://….git`, and its web address. */
const REPOSITORY = (JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')) as { repository: { url: string } })
  .repository.url
const REPOSITORY_WEB = REPOSITORY.replace(/^git\+/, '').replace(/\.git$/, '')

const suite = perSuite()
let app: string
/** The scratch project installed with --omit=optional: the core and ffi-rs, no native binary. */
let bare: string
const packed = new Map<string, Packed>()
/** Why the scratch project could not be installed, when the registry is out of reach. */
let unavailable: string | undefined

/** Skips a test needing the scratch install when the registry was out of reach (the install then threw under CI). */
function needInstall(ctx: TestContext): void {
  if (unavailable !== undefined) ctx.skip(unavailable)
}

beforeAll(
  async () => {
    for (const pkg of PUBLISHABLE) {
      const dist = join(PACKAGES_DIR, pkg.dir, 'dist')
      if (!existsSync(join(dist, 'index.js')) || !existsSync(join(dist, 'index.cjs'))) {
        throw new Error(`${pkg.name}: no build in ${dist}; run \`pnpm build\` first`)
      }
    }
    const root = suite.defer(mkdtempSync(join(tmpdir(), 'tut-packaging-')), (d) =>
      rmSync(d, { recursive: true, force: true }),
    )
    const tarballs = join(root, 'tarballs')
    app = join(root, 'app')
    bare = join(root, 'no-optional')
    mkdirSync(tarballs)
    mkdirSync(app)
    mkdirSync(bare)

    // Pack the packages as the README tells a user to (scripts/pack.sh: pnpm
    // pack of each publishable package into one folder).
    await runOk('scripts/pack.sh', 'bash', [PACK_SCRIPT, tarballs], { cwd: REPO_DIR, timeoutMs: PACK_TIMEOUT_MS * 2 })
    await pool(PUBLISHABLE, 2, async (pkg) => {
      const version = readManifest(join(PACKAGES_DIR, pkg.dir, 'package.json')).version
      const tgz = join(tarballs, `${pkg.name.replace('@', '').replace('/', '-')}-${version}.tgz`)
      if (!existsSync(tgz)) throw new Error(`scripts/pack.sh made no ${tgz}`)
      const list = await runOk(`tar -tzf ${tgz}`, 'tar', ['-tzf', tgz], { cwd: tarballs, timeoutMs: TOOL_TIMEOUT_MS })
      const manifest = await runOk(
        `tar -xzOf ${tgz} package/package.json`,
        'tar',
        ['-xzOf', tgz, 'package/package.json'],
        { cwd: tarballs, timeoutMs: TOOL_TIMEOUT_MS },
      )
      packed.set(pkg.name, {
        pkg,
        tarball: tgz,
        files: list.stdout
          .split('\n')
          .filter(Boolean)
          .map((f) => f.replace(/^package\//, '')),
        manifest: JSON.parse(manifest.stdout) as PackageManifest,
      })
    })

    // A user's project: the tarballs, and the frameworks they are used with.
    const dependencies: Record<string, string> = { ...peerVersions() }
    for (const { pkg, tarball } of packed.values()) dependencies[pkg.name] = `file:${tarball}`
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'tut-packaging-app', private: true, version: '0.0.0', dependencies }, null, 2),
    )
    const spec = { packages: PUBLISHABLE, entries: ENTRIES, adapters: ADAPTERS }
    writeFileSync(join(app, 'spec.json'), JSON.stringify(spec, null, 2))
    for (const file of ['checks.mjs', 'esm.mjs', 'cjs.cjs', 'use.mjs'])
      copyFileSync(join(FIXTURES, file), join(app, file))
    cpSync(APPS, join(app, 'apps'), { recursive: true })
    const core = get(CORE.name)
    writeFileSync(
      join(bare, 'package.json'),
      JSON.stringify(
        {
          name: 'tut-no-optional-app',
          private: true,
          version: '0.0.0',
          dependencies: { [CORE.name]: `file:${core.tarball}` },
        },
        null,
        2,
      ),
    )
    copyFileSync(join(FIXTURES, 'no-binary.mjs'), join(bare, 'no-binary.mjs'))
  },
  PACK_TIMEOUT_MS * 2 + 15_000,
)

/**
 * npm install of the scratch project. The registry is pinged first: reachable,
 * the install must succeed (--prefer-offline: cached metadata is used); out of
 * reach, npm's cache alone is tried (--offline), and if that is not enough the
 * tests that need the install are skipped with the reason, or fail under CI.
 */
async function installScratch(): Promise<void> {
  unavailable = await installProject(app, [])
}

/**
 * npm install of a scratch project with `extra` flags; returns why it could
 * not be installed when the registry is out of reach (see installScratch),
 * throws when it is reachable and the install fails.
 */
async function installProject(dir: string, extra: string[]): Promise<string | undefined> {
  const env = cleanEnv()
  const flags = ['--no-audit', '--no-fund', '--loglevel=error', ...extra]
  const ping = await run(
    'npm',
    ['ping', '--fetch-retries=0', `--fetch-timeout=${PING_TIMEOUT_MS}`, '--loglevel=error'],
    { cwd: dir, timeoutMs: PING_TIMEOUT_MS + 5_000, env },
  )
  const reachable = ping.code === 0
  const install = await run('npm', ['install', ...flags, reachable ? '--prefer-offline' : '--offline'], {
    cwd: dir,
    timeoutMs: INSTALL_TIMEOUT_MS,
    env,
  })
  if (install.code === 0) return undefined
  const what = `npm install ${extra.join(' ')} (scratch project ${dir})`
  if (reachable) throw new Error(describeRun(what, install))
  const why = `the npm registry is unreachable (npm ping: ${ping.timedOut ? 'timed out' : (/\b(E[A-Z_]{3,})\b/.exec(ping.stderr)?.[1] ?? `exit ${ping.code}`)}) and npm's cache cannot install the scratch project offline`
  if (IN_CI)
    throw new Error(
      `${why}; CI must install the packed ` +
        `packages\n${describeRun('npm ping', ping)}\n${describeRun(`${what} --offline`, install)}`,
    )
  const skip = `packaging: ${why}; skipping the tests that load the packed packages (they fail under CI)`
  console.warn(skip)
  return skip
}

function readManifest(file: string): PackageManifest {
  return JSON.parse(readFileSync(file, 'utf8')) as PackageManifest
}

function get(name: string): Packed {
  const p = packed.get(name)
  if (p === undefined) throw new Error(`${name} was not packed`)
  return p
}

/** Every file the manifest points at (main, module, types, each exports target). */
function manifestTargets(m: PackageManifest): string[] {
  const targets = new Set<string>()
  const walk = (v: unknown): void => {
    if (typeof v === 'string') targets.add(v.replace(/^\.\//, ''))
    else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x)
  }
  walk([m.main, m.module, m.types, m.exports])
  return [...targets]
}

describe.each(PUBLISHABLE.map((p) => [p.name, p] as const))('%s tarball', (name, pkg) => {
  it('holds dist, its READMEs, LICENSE and package.json, and no sources or tests', () => {
    const { files } = get(name)
    const entries = ['index', ...ENTRIES.filter((e) => e.name.startsWith(`${name}/`)).map((e) => e.file)]
    const docs = ['README.md', ...(pkg.docs ?? [])]
    for (const required of [
      'package.json',
      'LICENSE',
      ...docs,
      ...entries.flatMap((e) => [`dist/${e}.js`, `dist/${e}.cjs`, `dist/${e}.d.ts`, `dist/${e}.d.cts`]),
    ]) {
      expect(files, `${name}: ${required} missing from the tarball`).toContain(required)
    }
    const stray = files.filter((f) => {
      if (!f.startsWith('dist/')) return !['package.json', 'LICENSE', ...docs].includes(f)
      return (
        /\/(src|test|tests|__tests__)\//.test(f) ||
        /\.(test|spec)\./.test(f) ||
        (/\.[cm]?tsx?$/.test(f) && !/\.d\.c?ts$/.test(f))
      )
    })
    expect(stray, `${name}: files that should not ship`).toEqual([])
  })

  it('points main, module, types and every exports target at files it ships', () => {
    const { files, manifest } = get(name)
    for (const target of manifestTargets(manifest))
      expect(files, `${name}: package.json points at ${target}`).toContain(target)
    expect(manifest.exports?.['.']).toMatchObject({
      import: { types: './dist/index.d.ts', default: './dist/index.js' },
      require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
    })
    // types first in each condition block (TypeScript takes the first match).
    const dot = manifest.exports?.['.'] as Record<string, Record<string, string>>
    expect(Object.keys(dot.import)[0]).toBe('types')
    expect(Object.keys(dot.require)[0]).toBe('types')
    // Subpaths: each with both builds and their types, and the same shape.
    const subpaths = Object.keys(manifest.exports ?? {}).filter((k) => k !== '.' && k !== './package.json')
    const entries = ENTRIES.filter((e) => e.name.startsWith(`${name}/`))
    expect(subpaths).toEqual(entries.map((e) => `.${e.name.slice(name.length)}`))
    for (const entry of entries) {
      const file = entry.file
      expect(manifest.exports?.[`.${entry.name.slice(name.length)}`]).toEqual({
        import: { types: `./dist/${file}.d.ts`, default: `./dist/${file}.js` },
        require: { types: `./dist/${file}.d.cts`, default: `./dist/${file}.cjs` },
      })
    }
  })

  it('has its workspace: ranges rewritten to real versions', () => {
    const { manifest } = get(name)
    const source = readManifest(join(PACKAGES_DIR, pkg.dir, 'package.json'))
    expect(JSON.stringify(manifest)).not.toContain('workspace:')
    for (const [dep, range] of Object.entries(source.dependencies ?? {})) {
      if (!range.startsWith('workspace:')) {
        expect(manifest.dependencies?.[dep], `${name}: dependency ${dep}`).toBe(range)
        continue
      }
      const target = PUBLISHABLE.find((p) => p.name === dep)
      expect(target, `${name} depends on ${dep}, which is not publishable`).toBeDefined()
      const version = readManifest(join(PACKAGES_DIR, target!.dir, 'package.json')).version
      const prefix = range.slice('workspace:'.length) // ^, ~, * or a range
      const expected = prefix === '^' || prefix === '~' ? `${prefix}${version}` : prefix === '*' ? version : prefix
      expect(manifest.dependencies?.[dep], `${name}: ${dep} (${range} in the workspace)`).toBe(expected)
    }
    expect(manifest.version).toBe(source.version)
  })

  it("carries its npm page's metadata: repository, homepage, bugs, keywords, license, files, sideEffects", () => {
    const { manifest } = get(name)
    expect(manifest.repository, `${name}: repository`).toEqual({
      type: 'git',
      url: REPOSITORY,
      directory: `packages/${pkg.dir}`,
    })
    expect(manifest.homepage, `${name}: homepage`).toBe(`${REPOSITORY_WEB}/tree/main/packages/${pkg.dir}#readme`)
    expect(manifest.bugs, `${name}: bugs`).toEqual({ url: `${REPOSITORY_WEB}/issues` })
    expect(manifest.keywords, `${name}: keywords`).toEqual(expect.arrayContaining(['TCP_USER_TIMEOUT', 'timeout']))
    expect(manifest.license, `${name}: license`).toBe('MIT')
    expect(manifest.files, `${name}: files`).toEqual(['dist', 'README.md', ...(pkg.docs ?? [])])
    // Only what runs code on import says so (a bundler must keep the import); an adapter is pure until called.
    expect(manifest.sideEffects, `${name}: sideEffects`).toBe(IMPORT_EFFECTS.has(name))
  })

  it('has a README that stands alone on the npm page: how to install it, and no links out of the package', () => {
    const readme = readFileSync(join(PACKAGES_DIR, pkg.dir, 'README.md'), 'utf8')
    expect(readme, `${name}: README install line`).toMatch(
      new RegExp(`^npm i(nstall)? ${name.replace('/', '\\/')}\\b`, 'm'),
    )
    const outward = [...readme.matchAll(/\]\((\.\.\/[^)]*)\)/g)].map((m) => m[1])
    expect(outward, `${name}: README links that leave the package (broken on npm)`).toEqual([])
  })

  it('passes publint --strict', async () => {
    const r = await run(join(BIN, 'publint'), ['run', get(name).tarball, '--strict'], {
      cwd: TEST_DIR,
      timeoutMs: TOOL_TIMEOUT_MS,
    })
    expect(r.code, describeRun(`publint ${name}`, r)).toBe(0)
    expect(r.stdout).toContain('All good!')
  })

  it('passes arethetypeswrong (profile strict)', async () => {
    const r = await run(join(BIN, 'attw'), [get(name).tarball, '--format', 'json'], {
      cwd: TEST_DIR,
      timeoutMs: TOOL_TIMEOUT_MS,
    })
    expect(r.code, describeRun(`attw ${name}`, r)).toBe(0)
    const result = JSON.parse(r.stdout) as { analysis: { types: { kind: string }; problems: unknown[] } }
    expect(result.analysis.types.kind, `${name}: ships its own types`).toBe('included')
    expect(result.analysis.problems, `${name}: attw problems`).toEqual([])
  })
})

describe("the core's two entries are one build (the workspace's dist, no install needed)", () => {
  const DIST = join(PACKAGES_DIR, 'core', 'dist')
  const jsFiles = (ext: string) => readdirSync(DIST).filter((f) => f.endsWith(ext))

  it.each(['.js', '.cjs'])('%s: each module is in one file only, the entries import their shared chunk', (ext) => {
    // A module written once: those both entries use (the shared state, the error
    // classes, the hooks) in the shared chunk.
    const holders = (marker: string) => jsFiles(ext).filter((f) => readFileSync(join(DIST, f), 'utf8').includes(marker))
    for (const marker of [
      'Symbol.for("tcp-user-timeout.state")',
      'Symbol.for("tcp-user-timeout.error.InvalidOptionError")',
      'function install(',
    ]) {
      expect(holders(marker), `${marker} in dist/*${ext}`).toEqual([expect.stringMatching(/^chunk-/)])
    }
    expect(holders('function enterRequest(')).toEqual([`adapter${ext}`])
    for (const entry of ['index', 'adapter'])
      expect(readFileSync(join(DIST, `${entry}${ext}`), 'utf8')).toMatch(/chunk-[\w-]+\.c?js/)
  })

  it('each build runs one copy of each module for both entries: the same classes, the same scopes', async () => {
    const require = createRequire(import.meta.url)
    for (const [core, adapter] of [
      [await import('@tcp-user-timeout/core'), await import('@tcp-user-timeout/core/adapter')],
      [require('@tcp-user-timeout/core'), require('@tcp-user-timeout/core/adapter')],
    ] as [typeof import('@tcp-user-timeout/core'), typeof import('@tcp-user-timeout/core/adapter')][]) {
      let thrown: unknown
      try {
        adapter.createPolicy({ seconds: 'x' as never })
      } catch (error) {
        thrown = error
      }
      expect((thrown as Error).constructor).toBe(core.InvalidOptionError)
      expect(adapter.runInScope(adapter.createPolicy({ seconds: 4 }).resolve({}), () => core.currentTimeout())).toBe(
        4000,
      )
    }
  })
})

interface ScriptResult {
  names: Record<string, string[]>
  support: { supported: boolean; reason?: string }
  bindCalls: number | null
  dualBindCalls?: number | null
  resolved: Record<string, string>
  errorNames?: string[]
}

/** Runs a script of the scratch project and returns the object it reported. */
async function script<T>(file: string): Promise<T> {
  const r = await run(process.execPath, [file], { cwd: app, timeoutMs: SCRIPT_TIMEOUT_MS, env: cleanEnv() })
  if (r.code !== 0) throw new Error(describeRun(`node ${file} (in the scratch project)`, r))
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (line === undefined) throw new Error(describeRun(`node ${file} reported nothing`, r))
  return JSON.parse(line.slice('RESULT '.length)) as T
}

describe('the packed packages, installed with npm', () => {
  let esm: ScriptResult | undefined

  beforeAll(installScratch, PING_TIMEOUT_MS + 5_000 + INSTALL_TIMEOUT_MS + 5_000)

  it('installs from the tarballs alone: one core, from its tarball', (ctx) => {
    needInstall(ctx)
    // The adapters' "@tcp-user-timeout/core": "^0.1.0" is met by the packed core, not a registry copy or a second one.
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string; version?: string }>
    }
    const cores = Object.keys(lock.packages).filter((p) => p.endsWith('node_modules/@tcp-user-timeout/core'))
    expect(cores).toEqual(['node_modules/@tcp-user-timeout/core'])
    for (const { pkg, tarball } of packed.values()) {
      expect(lock.packages[`node_modules/${pkg.name}`]?.resolved, pkg.name).toBe(`file:${relative(app, tarball)}`)
    }
  })

  it('import: every documented export, of the right kind, from the ESM build', async (ctx) => {
    needInstall(ctx)
    esm = await script<ScriptResult>('esm.mjs')
    for (const pkg of PUBLISHABLE) {
      expect(esm.resolved[pkg.name]).toBe(pathToFileURL(join(app, 'node_modules', pkg.name, 'dist', 'index.js')).href)
    }
    for (const entry of ENTRIES) {
      const pkg = PUBLISHABLE.find((p) => entry.name.startsWith(`${p.name}/`))!
      expect(esm.resolved[entry.name]).toBe(
        pathToFileURL(join(app, 'node_modules', pkg.name, 'dist', `${entry.file}.js`)).href,
      )
    }
    if (process.platform === 'linux') expect(esm.bindCalls).toBeGreaterThanOrEqual(1)
  })

  it('require(): the same exports from the CJS build, and both builds in one process share one state', async (ctx) => {
    needInstall(ctx)
    const cjs = await script<ScriptResult>('cjs.cjs')
    for (const pkg of PUBLISHABLE) {
      expect(cjs.resolved[pkg.name]).toBe(join(app, 'node_modules', pkg.name, 'dist', 'index.cjs'))
    }
    for (const entry of ENTRIES) {
      const pkg = PUBLISHABLE.find((p) => entry.name.startsWith(`${p.name}/`))!
      expect(cjs.resolved[entry.name]).toBe(join(app, 'node_modules', pkg.name, 'dist', `${entry.file}.cjs`))
    }
    // Same names from both builds (esm.mjs ran in the previous test; rerun if it was filtered out).
    esm ??= await script<ScriptResult>('esm.mjs')
    expect(cjs.names).toEqual(esm.names)
    // The lists are exact (checked in checks.mjs): the main entry and the adapter entry hold what they document.
    expect(Object.keys(esm.names).sort()).toEqual([...PUBLISHABLE, ...ENTRIES].map((p) => p.name).sort())
    // One set of hooks: with both builds loaded, a socket costs the setsockopt calls it costs with one.
    expect(cjs.dualBindCalls).toBe(cjs.bindCalls)
    expect(cjs.bindCalls).toBe(esm.bindCalls)
    // An error of either build is instanceof the other build's class (checked in cjs.cjs), for every class.
    expect(cjs.errorNames).toEqual(Object.keys(CORE.errors!))
  })

  it("runs each adapter's app fixture with the packed adapter in", async (ctx) => {
    needInstall(ctx)
    const result = await script<Record<string, unknown>>('use.mjs')
    // What the handlers saw (use.mjs), and the error a bad option gave: the core's own class.
    const invalid = { code: 'TUT_ERR_INVALID_OPTION', coreClass: true }
    const expected: Partial<Record<AdapterKind, unknown>> = {
      http: {
        quote: { ms: 25_000 },
        tightened: { ms: 3_000 },
        body: { ms: 25_000, echoed: 42 },
        export: { ms: 300_000 },
        health: { ms: null },
        invalid,
      },
      // A18's default pin (20 s) on the client's connection; none where the option cannot be set.
      call: {
        quote: { ms: 25_000 },
        tightened: { ms: 3_000 },
        invalid,
        pinned: { ms: process.platform === 'linux' ? 20_000 : null },
      },
    }
    const apps = ADAPTERS.filter((a) => expected[a.kind] !== undefined)
    const hardens = (a: (typeof apps)[number]) =>
      a.kind === 'http' ? { hardened: a.exports.functions.includes('hardenServer') } : {}
    expect(result).toEqual(
      Object.fromEntries(apps.map((a) => [a.name, { ...(expected[a.kind] as object), ...hardens(a) }])),
    )
  })
})

describe('the packed core, installed with npm install --omit=optional (ffi-rs without its native binary)', () => {
  let skip: string | undefined

  beforeAll(
    async () => {
      skip = await installProject(bare, ['--omit=optional'])
    },
    PING_TIMEOUT_MS + 5_000 + INSTALL_TIMEOUT_MS + 5_000,
  )

  it.runIf(process.platform === 'linux')(
    'says why in support() and in exactly one process warning, and never throws',
    async (ctx) => {
      if (skip !== undefined) ctx.skip(skip)
      // The install really left the binary out (otherwise this proves nothing).
      expect(existsSync(join(bare, 'node_modules', 'ffi-rs', 'package.json'))).toBe(true)
      expect(existsSync(join(bare, 'node_modules', '@yuuang')), 'no @yuuang/ffi-rs-* package was installed').toBe(false)

      const r = await run(process.execPath, ['no-binary.mjs'], {
        cwd: bare,
        timeoutMs: SCRIPT_TIMEOUT_MS,
        env: cleanEnv(),
      })
      const result = expectNoBinding('node no-binary.mjs', r)
      expect(result.support.reason).toMatch(/ffi-rs/)
      expect(result.support.reason).toContain(`@yuuang/ffi-rs-linux-${process.arch}`)
      expect(result.support.reason).toContain('--omit=optional')
    },
  )
})
