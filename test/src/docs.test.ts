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
