import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type http from 'node:http'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { startUpstream } from '@tcp-user-timeout/test-utils'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { startNode } from './helpers/child.js'

// Code a newcomer pastes must run as pasted. Every fenced block whose info
// string says `runnable` (```js runnable) in README.md, docs/*.md and
// packages/*/README.md is a whole program: this file writes it to an .mjs
// file inside the workspace (test/.cache/, gitignored, which resolves the
// frameworks and adapters through test/node_modules, as an app's own
// node_modules would), starts it with the README's "Check that it works"
// loaded in front (`node --import examples/observability/check.mjs`), with
// PORT=0 and UPSTREAM_URL pointing to an upstream on 127.0.0.1, and checks:
// it prints the port it listens on; GET /quote answers 200 with the request's
// budget (25000 ms) after calling the upstream, which sees the request; the
// check prints that upstream socket's bind at 25000 ms; /export and /health,
// where the block has them, answer their route's own budget and support();
// SIGTERM ends it, after the check has printed its counters. Its first line,
// `// npm i …`, must name every package it imports.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CHECK = pathToFileURL(join(ROOT, 'examples/observability/check.mjs')).href
const START_MS = 15_000
const STOP_MS = 10_000

/** Every document a newcomer reads: the README, the docs pages, the packages' READMEs. */
function documents(): string[] {
  const pages = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`)
  const packages = readdirSync(join(ROOT, 'packages'))
    .map((dir) => `packages/${dir}/README.md`)
    .filter((file) => {
      try {
        readFileSync(join(ROOT, file))
        return true
      } catch {
        return false
      }
    })
  return ['README.md', ...pages.sort(), ...packages.sort()]
}

interface Block {
  /** Where it is shown: `README.md:63`, and every other document showing the same code. */
  where: string[]
  code: string
}

/** The runnable blocks of `text`, each with the line of its opening fence. */
function runnableBlocks(text: string): { line: number; code: string }[] {
  const found: { line: number; code: string }[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*(?:js|mjs|javascript)\b(.*)$/.exec(lines[i])
    if (open === null) continue
    const end = lines.findIndex((l, j) => j > i && l.startsWith(open[1]) && l.trim() === open[1])
    if (/\brunnable\b/.test(open[2])) found.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n') + '\n' })
    i = end
  }
  return found
}

/** The runnable blocks of every document, one entry per distinct code. */
function allBlocks(): Block[] {
  const byCode = new Map<string, Block>()
  for (const file of documents()) {
    for (const { line, code } of runnableBlocks(readFileSync(join(ROOT, file), 'utf8'))) {
      const block = byCode.get(code) ?? { where: [], code }
      block.where.push(`${file}:${line}`)
      byCode.set(code, block)
    }
  }
  return [...byCode.values()]
}

/** The packages a program imports by name (not `node:` builtins, not relative paths). */
function importedPackages(code: string): string[] {
  const names = new Set<string>()
  for (const m of code.matchAll(/^\s*import\s[^'"]*?['"]([^'"]+)['"]/gm)) {
    const spec = m[1]
    if (spec.startsWith('node:') || spec.startsWith('.') || spec.startsWith('/')) continue
    const parts = spec.split('/')
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0])
  }
  return [...names].sort()
}

// Inside the workspace, so that bare imports resolve as in an app: test/node_modules holds every
// framework and adapter. `.cache/` is gitignored and lint-ignored.
mkdirSync(join(ROOT, 'test/.cache'), { recursive: true })
const DIR = mkdtempSync(join(ROOT, 'test/.cache/readme-snippets-'))
afterAll(() => rmSync(DIR, { recursive: true, force: true }))
let written = 0

interface Ran {
  origin: string
  lines: string[]
  upstreamRequests: number
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Writes `code` as an .mjs file, starts it behind the check with PORT=0 and
 * UPSTREAM_URL set, and waits for the port it prints. Rejects, with what it
 * printed, when it exits or prints no port.
 */
async function start(t: Teardown, code: string, label: string): Promise<Ran> {
  let upstreamRequests = 0
  const upstream = await startUpstream(t, (req: http.IncomingMessage, res: http.ServerResponse) => {
    upstreamRequests++
    req.resume()
    res.setHeader('content-type', 'text/plain')
    res.end('hello from the upstream')
  })
  const file = join(DIR, `block-${++written}.mjs`)
  writeFileSync(file, code)
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', UPSTREAM_URL: upstream.origin }
  const child = startNode(t, ['--import', CHECK, file], { cwd: DIR, env, label })
  const [, port] = await child.line(/listening on http:\/\/localhost:(\d+)/, START_MS)
  return {
    origin: `http://127.0.0.1:${port}`,
    lines: child.lines,
    get upstreamRequests() {
      return upstreamRequests
    },
    stop: () => child.stop(STOP_MS),
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) })
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> }
  } catch {
    throw new Error(`${url}: ${response.status}, not JSON: ${text.slice(0, 500)}`)
  }
}

const BLOCKS = allBlocks()
const where = (block: Block) => block.where.join(', ')

describe('the runnable blocks of the READMEs and docs', () => {
  it('are there: one per HTTP framework in the README, and one in each HTTP adapter’s README', () => {
    const files = BLOCKS.flatMap((b) => b.where.map((w) => w.replace(/:\d+$/, '')))
    expect(files.filter((f) => f === 'README.md')).toHaveLength(4)
    for (const name of ['express', 'koa', 'fastify', 'hono']) expect(files).toContain(`packages/${name}/README.md`)
  })

  it.each(BLOCKS.map((b) => [where(b), b] as const))('%s: its first line installs every package it imports', (_, b) => {
    const install = /^\/\/ npm i(?:nstall)? (.+)$/.exec(b.code.split('\n')[0])
    expect(install, 'a first line `// npm i <packages>`').not.toBeNull()
    const named = install![1].split(/\s+/)
    expect(importedPackages(b.code).filter((name) => !named.includes(name))).toEqual([])
  })

  it.for(BLOCKS.map((b) => [where(b), b] as const))(
    '%s runs as pasted: listens on PORT, binds its upstream socket at 25000 ms, stops on SIGTERM',
    async ([, b], context) => {
      const t = perTest(context)
      const app = await start(t, b.code, where(b))
      const show = () => app.lines.join('\n')

      const quote = await getJson(`${app.origin}/quote`)
      expect(quote.status, show()).toBe(200)
      expect(quote.body.budgetMs, 'the request ran in its 25 s scope').toBe(25000)
      expect(app.upstreamRequests, 'the route called UPSTREAM_URL').toBe(1)
      expect(
        app.lines.some((l) => /^tcp-user-timeout: \{"type":"bind","ms":25000,"direction":"outbound"/.test(l)),
        `the check printed the upstream socket's bind at 25000 ms\n${show()}`,
      ).toBe(true)
      if (b.code.includes("'/export'")) {
        const exp = await getJson(`${app.origin}/export`)
        expect(exp, show()).toEqual({ status: 200, body: { budgetMs: 300000 } })
      }
      if (b.code.includes("'/health'")) {
        const health = await getJson(`${app.origin}/health`)
        expect(health, show()).toEqual({ status: 200, body: { supported: true } })
      }

      const exit = await app.stop()
      expect(exit.signal, `ended by its SIGTERM\n${show()}`).toBe('SIGTERM')
      const stats = app.lines.filter((l) => /^tcp-user-timeout: \{"bound":/.test(l))
      expect(stats, `the check printed its counters once, on SIGTERM\n${show()}`).toHaveLength(1)
      expect(stats[0]).toMatch(/"bound":1,"timedOut":0,"errors":0/)
    },
  )

  it('a block that does not run as pasted fails here (the Express quick start before issue 25)', async (context) => {
    const broken = [
      "import express from 'express'",
      "import { tcpUserTimeout, override } from '@tcp-user-timeout/express'",
      'const app = express()',
      'app.use(tcpUserTimeout({ seconds: 25 }))',
      "app.get('/export', override({ seconds: 300 }), exportHandler)",
      '',
    ].join('\n')
    await expect(start(perTest(context), broken, 'the old Express quick start')).rejects.toThrow(
      /ReferenceError: exportHandler is not defined/,
    )
  })
})
