import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeChild, runNode, startNode } from './helpers/child.js'
import { ADAPTERS } from '@tcp-user-timeout/test-utils/apps'
import { perTest } from '@tcp-user-timeout/test-utils/teardown'

// The README is what a newcomer reads first: what it is, the two commands,
// install, a quick start per framework, how to check it works, and where to
// read on. The rest is in docs/, a page per topic, each linked from the
// README. Text shared by the README, the pages and the packages' READMEs is
// one source (docs/snippets/, copied by scripts/readmes.mjs), every link
// leads to a file and a heading that exist, a package's README stands alone
// on npm, and code shown for copying is a file the suite runs.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')
/**
 * The repository on GitHub: the packages' READMEs link to the docs pages this way, since npm shows no relative link.
 */
const REPOSITORY_WEB = 'https://github.com/tcp-user-timeout/tcp-user-timeout-node'
const README_MAX_LINES = 250

const PAGES = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .sort()
  .map((name) => `docs/${name}`)
const PACKAGES = readdirSync(join(ROOT, 'packages'))
  .filter((dir) => existsSync(join(ROOT, 'packages', dir, 'README.md')))
  .sort()
const EXAMPLES = readdirSync(join(ROOT, 'examples'))
  .filter((dir) => existsSync(join(ROOT, 'examples', dir, 'README.md')))
  .sort()
/** Every document whose links are checked. */
const DOCUMENTS = [
  'README.md',
  ...PAGES,
  ...PACKAGES.map((dir) => `packages/${dir}/README.md`),
  'packages/core/ADAPTERS.md',
  ...EXAMPLES.map((dir) => `examples/${dir}/README.md`),
]

/** Each line of a Markdown text outside fenced code blocks, with its 1-based number. */
function* outsideFences(text: string): Generator<[line: string, number: number]> {
  let fence: string | undefined
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1]
    if (fence !== undefined) {
      if (marker !== undefined && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined
      continue
    }
    if (marker !== undefined) {
      fence = marker
      continue
    }
    yield [line, i + 1]
  }
}

/** A line with its inline code spans blanked: a link written as code is no link. */
const withoutCode = (line: string) => line.replace(/(`+)[^`]*?\1/g, (span) => ' '.repeat(span.length))

/** A heading's anchor as GitHub makes it: its text lowercased, punctuation dropped, spaces turned into hyphens. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link: its text
    .replace(/<[^>]+>/g, '') // inline HTML
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

/**
 * The anchors of a Markdown file: one per heading (repeats get -1, -2, …, as on
 * GitHub), and explicit `id`/`name` anchors.
 */
function anchors(file: string): Set<string> {
  const found = new Set<string>()
  const seen = new Map<string, number>()
  for (const [line] of outsideFences(read(file))) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1]
    if (heading !== undefined) {
      const base = slug(heading)
      const n = seen.get(base) ?? 0
      seen.set(base, n + 1)
      found.add(n === 0 ? base : `${base}-${n}`)
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(m[1])
  }
  return found
}

interface Link {
  file: string
  line: number
  target: string
}

/** The links and images of a Markdown file (inline `[text](target)`), outside code. */
function links(file: string): Link[] {
  const out: Link[] = []
  for (const [line, number] of outsideFences(read(file))) {
    for (const m of withoutCode(line).matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      out.push({ file, line: number, target: m[1] })
  }
  return out
}

/**
 * Where a link leads in this repository: `{ path, anchor }` relative to the
 * root, or `undefined` for a link out of it. Links to the repository on
 * GitHub (`…/blob/main/docs/rules.md#anchor`, `…/tree/main/examples`,
 * `…#readme`) lead into it too.
 */
function resolveLink(link: Link): { path: string; anchor: string | undefined } | undefined {
  const [base, anchor] = splitAnchor(link.target)
  if (base === '') return { path: link.file, anchor }
  if (base.startsWith(REPOSITORY_WEB)) {
    const rest = base.slice(REPOSITORY_WEB.length)
    if (rest === '' || rest === '/') return { path: 'README.md', anchor: anchor === 'readme' ? undefined : anchor }
    const inRepo = /^\/(?:blob|tree)\/main\/(.+?)\/?$/.exec(rest)?.[1]
    if (inRepo !== undefined) return { path: normalize(decodeURIComponent(inRepo)), anchor }
    return undefined // issues, pulls, …
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(base)) return undefined
  return { path: normalize(join(dirname(link.file), decodeURIComponent(base))), anchor }
}

function splitAnchor(target: string): [string, string | undefined] {
  const hash = target.indexOf('#')
  return hash === -1 ? [target, undefined] : [target.slice(0, hash), target.slice(hash + 1)]
}

const where = (link: Link) => `${link.file}:${link.line} ${link.target}`

describe('the README', () => {
  it('holds the current text of every snippet it, the docs pages and the packages include (scripts/readmes.mjs --check)', async () => {
    const r = await runNode([join(ROOT, 'scripts', 'readmes.mjs'), '--check'], { cwd: ROOT, timeoutMs: 20_000 })
    expect(r.code, describeChild('node scripts/readmes.mjs --check', r)).toBe(0)
  })

  it('opens with exactly two commands for a fresh clone: the demo, then the tests', () => {
    const lines = read('README.md').split('\n')
    expect(lines[0]).toMatch(/^# /)
    const start = lines.indexOf('```sh')
    const end = lines.indexOf('```', start + 1)
    expect(start, 'a sh block right after the title').toBeGreaterThan(0)
    expect(start).toBeLessThan(4)
    const commands = lines.slice(start + 1, end).map((l) => l.replace(/\s+#.*$/, '').trim())
    expect(commands).toEqual(['npm run demo', 'npm test'])
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    expect(scripts.demo).toMatch(/^bash scripts\/setup\.sh demo && /)
    expect(scripts.test).toMatch(/^bash scripts\/setup\.sh test && /)
  })

  it(`is what a newcomer needs, in at most ${README_MAX_LINES} lines: the rest is in docs/`, () => {
    const text = read('README.md')
    expect(text.split('\n').length - (text.endsWith('\n') ? 1 : 0)).toBeLessThanOrEqual(README_MAX_LINES)
    const headings = [...outsideFences(text)]
      .map(([l]) => l)
      .filter((l) => /^#{2,3} /.test(l))
      .map((l) => l.replace(/^#+ /, ''))
    for (const section of ['Install', 'Quick start', 'Check that it works', 'Read on'])
      expect(headings).toContain(section)
    // A quick start for every adapter (the test kit's list), and NestJS's on top of two of them.
    const quickStart = text.slice(text.indexOf('## Quick start'), text.indexOf('## Check that it works'))
    for (const { package: name } of ADAPTERS) expect(quickStart, `a quick start with ${name}`).toContain(name)
    expect(headings).toContain('NestJS')
  })

  it('links every docs page', () => {
    const linked = new Set(
      links('README.md')
        .map((link) => resolveLink(link)?.path)
        .filter((path): path is string => path !== undefined),
    )
    expect(PAGES.length).toBeGreaterThan(0)
    expect(
      PAGES.filter((page) => !linked.has(normalize(page))),
      'docs pages the README does not link',
    ).toEqual([])
  })
})

describe('the docs pages', () => {
  it.each(PAGES)('%s opens with its title and a summary, and links back to the README', (page) => {
    const lines = read(page).split('\n')
    expect(lines[0], 'a title').toMatch(/^# \S/)
    expect(lines[1], 'a blank line after the title').toBe('')
    expect(lines[2], 'then a paragraph of summary').toMatch(/^\S/)
    expect(lines[2], 'then a paragraph of summary').not.toMatch(/^(#|>|\||<|```|~~~|[-*+] |\d+\. )/)
    expect(
      links(page).some((link) => resolveLink(link)?.path === 'README.md'),
      'a link back to the README',
    ).toBe(true)
  })

  it('share text only through snippets: no snippet has a relative link (it is copied into other folders, and onto npm)', () => {
    for (const name of readdirSync(join(ROOT, 'docs', 'snippets'))) {
      const file = `docs/snippets/${name}`
      const relativeLinks = links(file).filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target))
      expect(relativeLinks.map(where), file).toEqual([])
    }
  })
})

describe('every link', () => {
  it.each(DOCUMENTS)('in %s leads to a file that exists, and to a heading that exists in it', (file) => {
    const broken: string[] = []
    for (const link of links(file)) {
      const to = resolveLink(link)
      if (to === undefined) continue
      if (to.path.startsWith('..') || !existsSync(join(ROOT, to.path))) {
        broken.push(`${where(link)}: no such file ${to.path}`)
        continue
      }
      if (to.anchor === undefined || to.anchor === '') continue
      // GitHub's anchor for a folder's README
      if (to.anchor === 'readme' && existsSync(join(ROOT, to.path, 'README.md'))) continue
      if (statSync(join(ROOT, to.path)).isDirectory() || !to.path.endsWith('.md')) {
        broken.push(`${where(link)}: an anchor on ${to.path}, which is not a Markdown file`)
        continue
      }
      const known = anchors(to.path)
      if (!known.has(decodeURIComponent(to.anchor)))
        broken.push(`${where(link)}: no heading #${to.anchor} in ${to.path}`)
    }
    expect(broken).toEqual([])
  })
})

describe("a package's README", () => {
  it.each(PACKAGES.filter((dir) => dir !== 'test-utils'))(
    'packages/%s/README.md stands alone on npm: its install line, and relative links only to files it ships',
    (dir) => {
      const file = `packages/${dir}/README.md`
      const manifest = JSON.parse(read(`packages/${dir}/package.json`)) as { name: string; files?: string[] }
      expect(read(file), 'its install line').toMatch(
        new RegExp(`^npm i(nstall)? ${manifest.name.replace('/', '\\/')}\\b`, 'm'),
      )
      const shipped = new Set(manifest.files ?? [])
      const outside = links(file)
        .filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target) && !link.target.startsWith('#'))
        .filter((link) => {
          const path = relative(join('packages', dir), resolveLink(link)!.path)
          return path.startsWith('..') || !shipped.has(path.split(sep)[0])
        })
      expect(
        outside.map(where),
        'relative links that npm cannot follow (link the repository on GitHub instead)',
      ).toEqual([])
    },
  )
})

describe('"Check that it works"', () => {
  it('is examples/observability/check.mjs, and prints support, each bind and the counters in front of a real app', async () => {
    const check = read('examples/observability/check.mjs')
    expect(read('docs/snippets/check.md'), 'the snippet shows check.mjs as it is').toContain(`\`\`\`js\n${check}\`\`\``)
    expect(read('README.md'), 'the README includes it').toContain('<!-- snippet: check -->\n')
    const r = await runNode(['--import', './check.mjs', join(ROOT, 'test/src/fixtures/check-app.mjs')], {
      cwd: join(ROOT, 'examples/observability'),
      timeoutMs: 30_000,
    })
    expect(r.code, describeChild('node --import ./check.mjs check-app.mjs', r)).toBe(0)
    const lines = r.stdout.trim().split('\n')
    const json = (line: string | undefined) =>
      JSON.parse(line!.replace(/^tcp-user-timeout: /, '').replace(/ \{\}$/, '')) as Record<string, unknown>
    expect(json(lines[0])).toEqual({ supported: true })
    const peer = expect.stringMatching(/^127\.0\.0\.1:\d+$/)
    expect(json(lines[1])).toEqual({ type: 'bind', ms: 25000, direction: 'outbound', peer })
    expect(json(lines[2]), 'the request ended: its socket put back').toEqual({
      type: 'bind',
      ms: 0,
      direction: 'outbound',
      peer,
    })
    expect(lines[3]).toMatch(/ \{\}$/) // inForce(): no open socket holds a bound at exit
    expect(json(lines[3])).toEqual({ bound: 1, timedOut: 0, errors: 0, setsockoptCalls: 2, hardened: 0, reaped: 0 })
    expect(lines).toHaveLength(4)
  })

  // Node runs no 'exit' listener when a signal it has no handler for ends it (Ctrl-C, a container's SIGTERM).
  const idle = (handler: string) => `${handler}setInterval(() => {}, 1000); console.log('ready')`
  const COUNTERS =
    'tcp-user-timeout: {"bound":0,"timedOut":0,"errors":0,"setsockoptCalls":0,"hardened":0,"reaped":0} {}'
  const counters = (lines: string[]) => lines.filter((l) => l.startsWith('tcp-user-timeout: {"bound":'))

  it.for(['SIGTERM', 'SIGINT'] as const)(
    'prints the counters when %s ends an app with no handler for it, then ends as the signal would',
    async (signal, context) => {
      const app = startNode(perTest(context), ['--import', './check.mjs', '-e', idle('')], {
        cwd: join(ROOT, 'examples/observability'),
        label: `node --import ./check.mjs (${signal})`,
      })
      await app.line(/^ready$/, 15_000)
      app.child.kill(signal)
      const exit = await app.exit(10_000)
      expect(exit, app.lines.join('\n')).toEqual({ code: null, signal })
      expect(counters(app.lines), app.lines.join('\n')).toEqual([COUNTERS])
    },
  )

  it("leaves a signal the app handles to the app, and prints the counters once, at the app's exit", async (context) => {
    const handler =
      "process.once('SIGTERM', () => { console.log('app: closing'); setTimeout(() => process.exit(3), 50) }); "
    const app = startNode(perTest(context), ['--import', './check.mjs', '-e', idle(handler)], {
      cwd: join(ROOT, 'examples/observability'),
      label: 'node --import ./check.mjs (app handles SIGTERM)',
    })
    await app.line(/^ready$/, 15_000)
    app.child.kill('SIGTERM')
    const exit = await app.exit(10_000)
    expect(exit, app.lines.join('\n')).toEqual({ code: 3, signal: null })
    expect(app.lines).toContain('app: closing')
    expect(counters(app.lines), app.lines.join('\n')).toEqual([COUNTERS])
  })
})
