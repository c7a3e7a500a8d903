import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeChild, runNode } from './helpers/child.js'

// The READMEs are what a newcomer reads first: their shared text is one
// source (docs/snippets/, copied by scripts/readmes.mjs), their commands are
// the ones this repository runs, and code they show for copying is a file
// the suite runs.

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

describe('the READMEs', () => {
  it('hold the current text of every snippet they include (scripts/readmes.mjs --check)', async () => {
    const r = await runNode([join(ROOT, 'scripts', 'readmes.mjs'), '--check'], { cwd: ROOT, timeoutMs: 20_000 })
    expect(r.code, describeChild('node scripts/readmes.mjs --check', r)).toBe(0)
  })

  it('open with exactly two commands for a fresh clone: the demo, then the tests', () => {
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
})

describe('"Check that it works"', () => {
  it('is examples/observability/check.mjs, and prints support, each bind and the counters in front of a real app', async () => {
    const check = read('examples/observability/check.mjs')
    expect(read('docs/snippets/check.md'), 'the snippet shows check.mjs as it is').toContain(`\`\`\`js\n${check}\`\`\``)
    const r = await runNode(['--import', './check.mjs', join(ROOT, 'test/src/fixtures/check-app.mjs')], {
      cwd: join(ROOT, 'examples/observability'),
      timeoutMs: 30_000,
    })
    expect(r.code, describeChild('node --import ./check.mjs check-app.mjs', r)).toBe(0)
    const lines = r.stdout.trim().split('\n')
    const json = (line: string | undefined) => JSON.parse(line!.replace(/^tcp-user-timeout: /, '').replace(/ \{\}$/, '')) as Record<string, unknown>
    expect(json(lines[0])).toEqual({ supported: true })
    const peer = expect.stringMatching(/^127\.0\.0\.1:\d+$/)
    expect(json(lines[1])).toEqual({ type: 'bind', ms: 25000, direction: 'outbound', peer })
    expect(json(lines[2]), 'the request ended: its socket put back').toEqual({ type: 'bind', ms: 0, direction: 'outbound', peer })
    expect(lines[3]).toMatch(/ \{\}$/) // inForce(): no open socket holds a bound at exit
    expect(json(lines[3])).toEqual({ bound: 1, timedOut: 0, errors: 0, setsockoptCalls: 2, hardened: 0, reaped: 0 })
    expect(lines).toHaveLength(4)
  })
})
