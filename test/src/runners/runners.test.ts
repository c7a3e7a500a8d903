/**
 * The core evaluated many times in one process, as real runners and
 * installs do: Jest (a fresh module registry and global per test file, with
 * and without `globalsCleanup: 'on'`), vitest isolation (forks, threads),
 * `delete require.cache[...]` re-evaluation, and two copies of the package
 * side by side. Its hooks patch process-wide Node objects, so each
 * evaluation must find the one set of hooks already there rather than stack
 * another layer on it, and every evaluation's scopes must be honoured.
 *
 * Every unit (a file, an evaluation, a copy) runs probe.cjs: net.connect,
 * http.get, global fetch and an undici Pool request, each inside
 * withTimeout with a budget of the unit's own, against a server of its own,
 * the bound read back while the exchange is in flight. A stale layer of
 * hooks shows as another unit's number or as 0.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { perSuite } from '@tcp-user-timeout/test-utils/teardown'
import { describeChild, runNode, type ChildRun } from '../helpers/child.js'

const HERE = fileURLToPath(new URL('.', import.meta.url))
const requireHere = createRequire(import.meta.url)
const CORE_DIR = dirname(realpathSync(requireHere.resolve('@tcp-user-timeout/core/package.json')))
const JEST_BIN = requireHere.resolve('jest/bin/jest')
const VITEST_BIN = join(dirname(requireHere.resolve('vitest/package.json')), 'vitest.mjs')

const JEST_FILES = 20
const VITEST_FILES = 6
const EVALUATIONS = 50
/** Each unit's budget: its own, so a bound left over from another unit cannot pass for it. */
const budget = (index: number) => index + 2
const COPY_UNITS = [
  { index: 1, scope: 'A', read: 'B', seconds: 4 },
  { index: 2, scope: 'B', read: 'A', seconds: 6 },
]

const JEST_TIMEOUT_MS = 40_000
const VITEST_TIMEOUT_MS = 30_000
const SCRIPT_TIMEOUT_MS = 20_000
/** Past a child's own bound: time to spawn it and read its results. */
const MARGIN_MS = 5_000

const PATHS = ['net', 'http', 'fetch', 'undici'] as const

/** One unit's `RESULT` line (probe.cjs). */
interface Unit {
  index: number
  seconds: number
  net: number | null
  http: number | null
  fetch: number | null
  undici: number | null
  socketListeners: number | null
  errors: string[]
  [more: string]: unknown
}

interface Outcome {
  run: ChildRun
  /** In the order they reported: the order the runner ran them. */
  units: Unit[]
  /** A line about the run that is not a unit (two-copies.cjs: which copies were loaded). */
  header?: Record<string, unknown>
}

/** The runners' own output that says the core misbehaved, whatever the unit. */
const WARNINGS = [/MaxListenersExceededWarning/, /soft deleted/, /TUT_WARN_\w+/]

const linux = process.platform === 'linux'
if (!linux)
  console.log(`runners.test.ts skipped: TCP_USER_TIMEOUT is a Linux socket option, this is ${process.platform}`)

const suite = perSuite()

function scratch(prefix: string): string {
  return suite.defer(mkdtempSync(join(tmpdir(), prefix)), (d) => rmSync(d, { recursive: true, force: true }))
}

/** Our env without what the outer vitest and pnpm add, which the runners inside would take as theirs. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra }
  for (const key of Object.keys(env)) {
    if (key.startsWith('VITEST') || key === 'FORCE_COLOR' || key === 'NODE_OPTIONS') delete env[key]
  }
  return env
}

function parseResults(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice('RESULT '.length)) as Record<string, unknown>)
}

/** A runner's summary line: it ran the files it was given (whatever became of them). */
function summary(output: string, line: RegExp): string {
  return line.exec(output)?.[0].trim() ?? 'no summary line: the runner did not finish'
}

function readResults(file: string): Record<string, unknown>[] {
  try {
    return parseResults(readFileSync(file, 'utf8'))
  } catch {
    return [] // No unit finished: the file was never written.
  }
}

/**
 * The checks every run shares. `expected` lists each unit's index and
 * budget in seconds; `harness` checks that the runner really ran what it was
 * given (the files, the pool, the evaluations), apart from the core.
 */
function describeRun(
  name: string,
  start: () => Promise<Outcome>,
  timeoutMs: number,
  expected: { index: number; seconds: number }[],
  harness: (o: Outcome) => void,
): void {
  describe(name, () => {
    let outcome: Outcome
    beforeAll(async () => {
      outcome = await start()
    }, timeoutMs + MARGIN_MS)
    const about = () => describeChild(name, outcome.run)

    it('ran every unit it was given', () => harness(outcome))

    it('every unit reads its own budget (ms) on net.connect, http.get, fetch and an undici Pool, in flight', () => {
      // One line per unit: the diff shows which units and paths read what.
      const line = (index: number, ms: (p: (typeof PATHS)[number]) => unknown) =>
        `unit ${index}: ${PATHS.map((p) => `${p} ${ms(p)}`).join(', ')}`
      const byIndex = new Map(outcome.units.map((u) => [u.index, u]))
      const actual = expected.map(({ index }) => {
        const u = byIndex.get(index)
        return u === undefined ? `unit ${index}: no RESULT, it never finished` : line(index, (p) => u[p])
      })
      const wanted = expected.map(({ index, seconds }) => line(index, () => seconds * 1000))
      const someMissing = actual.some((l) => l.endsWith('never finished'))
      expect(actual, someMissing ? about() : 'per unit, the bound read back in ms').toEqual(wanted)
    })

    it("an http.ClientRequest carries as many 'socket' listeners in the last unit as in the first", () => {
      const counts = outcome.units.map((u) => u.socketListeners)
      expect(counts.length, about()).toBeGreaterThan(1)
      expect(counts[0], 'the first unit made its http request').toEqual(expect.any(Number))
      expect(counts, 'in the order the units ran').toEqual(counts.map(() => counts[0]))
    })

    it('nothing threw, no MaxListenersExceededWarning, no soft-deleted global, no TUT_WARN_* warning', () => {
      const errors = outcome.units.flatMap((u) => u.errors.map((e) => `unit ${u.index}: ${e}`))
      const output = `${outcome.run.stdout}\n${outcome.run.stderr}`.split('\n')
      const warnings = [...new Set(output.filter((l) => WARNINGS.some((w) => w.test(l))))]
      expect({ errors, warnings }).toEqual({ errors: [], warnings: [] })
    })

    it('exits 0', () => {
      const { code, signal, timedOut } = outcome.run
      expect({ code, signal, timedOut }, about()).toEqual({ code: 0, signal: null, timedOut: false })
    })
  })
}

const indexes = (n: number) => Array.from({ length: n }, (_, i) => ({ index: i + 1, seconds: budget(i + 1) }))

;(linux ? describe : describe.skip)('the core under runners that evaluate it many times in one process', () => {
  beforeAll(() => {
    // The runs below load the core's build: say so when there is none.
    if (!existsSync(join(CORE_DIR, 'dist', 'index.cjs')))
      throw new Error(`no build of the core in ${CORE_DIR}/dist: run \`bash scripts/pnpm.sh run build\``)
  })

  // Twenty generated files, each one line calling client-paths.body.cjs with
  // its index: Jest gives each its own registry and global, so each requires
  // the core afresh.
  async function runJest(globalsCleanup: 'on' | undefined): Promise<Outcome> {
    const dir = scratch('tut-jest-')
    const files = join(dir, 'files')
    mkdirSync(files)
    const body = join(HERE, 'jest', 'client-paths.body.cjs')
    for (let i = 1; i <= JEST_FILES; i++) {
      writeFileSync(
        join(files, `client-paths-${String(i).padStart(2, '0')}.test.cjs`),
        `require(${JSON.stringify(body)})(${i})\n`,
      )
    }
    const results = join(dir, 'results')
    const env = childEnv({
      TUT_JEST_FILES: files,
      TUT_RESULTS: results,
      ...(globalsCleanup ? { TUT_JEST_GLOBALS_CLEANUP: globalsCleanup } : {}),
    })
    const run = await runNode([JEST_BIN, '--config', join(HERE, 'jest', 'jest.config.cjs'), '--runInBand', '--ci'], {
      cwd: HERE,
      timeoutMs: JEST_TIMEOUT_MS,
      env,
    })
    return { run, units: readResults(results) as Unit[] }
  }
  const jestRan = (o: Outcome) =>
    expect(summary(o.run.stderr, /^Test Suites:.*$/m), describeChild('jest', o.run)).toMatch(
      new RegExp(`\\b${JEST_FILES} total$`),
    )

  describeRun(
    `Jest 30, ${JEST_FILES} files --runInBand`,
    () => runJest(undefined),
    JEST_TIMEOUT_MS,
    indexes(JEST_FILES),
    jestRan,
  )
  describeRun(
    `Jest 30, ${JEST_FILES} files --runInBand, globalsCleanup: 'on'`,
    () => runJest('on'),
    JEST_TIMEOUT_MS,
    indexes(JEST_FILES),
    jestRan,
  )

  // Six files, each its own isolation of the core (inlined: evaluated by
  // vitest's module runner per file, not cached by Node).
  for (const pool of ['forks', 'threads'] as const) {
    describeRun(
      `vitest, isolate: true, pool: '${pool}', ${VITEST_FILES} files`,
      async () => {
        const dir = scratch('tut-vitest-')
        const results = join(dir, 'results')
        const env = childEnv({ TUT_VITEST_POOL: pool, TUT_RESULTS: results, TUT_VITEST_CACHE: join(dir, 'cache') })
        // The runner config loader: no bundled config written beside the sources.
        const args = [
          VITEST_BIN,
          'run',
          '--config',
          join(HERE, 'vitest', 'vitest.inner.config.mjs'),
          '--configLoader',
          'runner',
        ]
        const run = await runNode(args, { cwd: join(HERE, 'vitest'), timeoutMs: VITEST_TIMEOUT_MS, env })
        return { run, units: readResults(results) as Unit[] }
      },
      VITEST_TIMEOUT_MS,
      indexes(VITEST_FILES),
      (o) => {
        expect(summary(o.run.stdout, /^\s*Test Files .*$/m), describeChild('vitest', o.run)).toMatch(
          new RegExp(`\\(${VITEST_FILES}\\)$`),
        )
        // The pool asked for: worker threads have a threadId, forks run on their main thread.
        expect(o.units.map((u) => (u.threadId === 0 ? 'forks' : 'threads'))).toEqual(o.units.map(() => pool))
      },
    )
  }

  describeRun(
    `${EVALUATIONS} evaluations of the CommonJS build after delete require.cache[...]`,
    async () => {
      const run = await runNode([join(HERE, 'reevaluate.cjs'), String(EVALUATIONS)], {
        cwd: HERE,
        timeoutMs: SCRIPT_TIMEOUT_MS,
        env: childEnv({}),
      })
      return { run, units: parseResults(run.stdout) as Unit[] }
    },
    SCRIPT_TIMEOUT_MS,
    indexes(EVALUATIONS),
    (o) => {
      expect(o.units.length, describeChild('reevaluate.cjs', o.run)).toBe(EVALUATIONS)
      // fresh: a new module object each time, from every file of the build (entry and chunks).
      expect(o.units.every((u) => u.fresh === true && (u.modules as number) > 1)).toBe(true)
    },
  )

  // A physical copy each (not a link: Node would resolve both to one file),
  // both resolving the workspace's ffi-rs as an installed app would.
  function twoCopiesApp(): string {
    const app = scratch('tut-two-copies-')
    const modules = join(app, 'node_modules')
    const manifest = JSON.parse(readFileSync(join(CORE_DIR, 'package.json'), 'utf8')) as { version: string }
    const copy = (to: string, version: string) => {
      mkdirSync(to, { recursive: true })
      writeFileSync(join(to, 'package.json'), JSON.stringify({ ...manifest, version }, null, 2))
      cpSync(join(CORE_DIR, 'dist'), join(to, 'dist'), { recursive: true })
    }
    copy(join(modules, '@tcp-user-timeout', 'core'), manifest.version)
    const lib = join(modules, 'other-lib')
    copy(join(lib, 'node_modules', '@tcp-user-timeout', 'core'), `${manifest.version}-copy.b`)
    writeFileSync(join(lib, 'package.json'), JSON.stringify({ name: 'other-lib', version: '1.0.0', main: 'index.js' }))
    writeFileSync(join(lib, 'index.js'), "module.exports = require('@tcp-user-timeout/core')\n")
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tut-two-copies', private: true }))
    const ffiRs = realpathSync(dirname(createRequire(join(CORE_DIR, 'package.json')).resolve('ffi-rs/package.json')))
    symlinkSync(ffiRs, join(modules, 'ffi-rs'), 'dir')
    symlinkSync(join(dirname(ffiRs), '@yuuang'), join(modules, '@yuuang'), 'dir')
    return app
  }

  for (const order of ['a-first', 'b-first'] as const) {
    let app: string
    describeRun(
      `two copies of the package in one process ` +
        `(${order === 'a-first' ? "the app's copy A loaded first" : "other-lib's copy B loaded first"}), ` +
        `each one's scope read through the other`,
      async () => {
        app = twoCopiesApp()
        const run = await runNode([join(HERE, 'two-copies.cjs'), app, order, JSON.stringify(COPY_UNITS)], {
          cwd: app,
          timeoutMs: SCRIPT_TIMEOUT_MS,
          env: childEnv({}),
        })
        const [header, ...units] = parseResults(run.stdout)
        return { run, header, units: units as Unit[] }
      },
      SCRIPT_TIMEOUT_MS,
      COPY_UNITS,
      (o) => {
        expect(o.header, describeChild('two-copies.cjs', o.run)).toMatchObject({
          distinct: true,
          loaded: order === 'a-first' ? ['A', 'B'] : ['B', 'A'],
        })
        const files = o.header!.files as string[]
        expect(new Set(files).size).toBe(2)
        for (const f of files) expect(realpathSync(f).startsWith(realpathSync(app))).toBe(true)
        expect(o.header!.versions).toEqual([expect.not.stringContaining('copy.b'), expect.stringContaining('copy.b')])
        expect(o.units.map((u) => u.index)).toEqual(COPY_UNITS.map((u) => u.index))
      },
    )
  }
})
