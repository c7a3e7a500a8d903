#!/usr/bin/env node
// Each package's README must stand alone on its npm page, so the text they
// share (what the option does, which sockets get bound, the options, how to
// check it works) is written once, in docs/snippets/, and copied into every
// README that asks for it between these two lines:
//   <!-- snippet: which-sockets -->
//   <!-- /snippet -->
// `node scripts/readmes.mjs` rewrites the copies; `--check` only says which
// README is out of date (exit 1), for the tests.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const SNIPPETS = join(ROOT, 'docs', 'snippets')
const BLOCK = /(<!-- snippet: ([a-z0-9-]+) -->\n)[\s\S]*?(<!-- \/snippet -->)/g

export function readmes() {
  const packages = readdirSync(join(ROOT, 'packages')).map((dir) => join('packages', dir, 'README.md'))
  return ['README.md', ...packages].filter((file) => {
    try {
      readFileSync(join(ROOT, file))
      return true
    } catch {
      return false
    }
  })
}

/** The README's text with every snippet block refilled; throws on a snippet that does not exist. */
export function filled(file) {
  const text = readFileSync(join(ROOT, file), 'utf8')
  return text.replace(BLOCK, (_, open, name, close) => {
    let body
    try {
      body = readFileSync(join(SNIPPETS, `${name}.md`), 'utf8')
    } catch {
      throw new Error(`${file}: no snippet docs/snippets/${name}.md`)
    }
    return `${open}${body.endsWith('\n') ? body : `${body}\n`}${close}`
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check')
  const stale = []
  for (const file of readmes()) {
    const next = filled(file)
    if (next === readFileSync(join(ROOT, file), 'utf8')) continue
    if (check) stale.push(file)
    else writeFileSync(join(ROOT, file), next)
  }
  if (stale.length > 0) {
    console.error(`out of date with docs/snippets/: ${stale.join(', ')}; run \`node scripts/readmes.mjs\``)
    process.exit(1)
  }
}
