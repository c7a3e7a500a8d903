#!/usr/bin/env node
// Each package's README must stand alone on its npm page, so the text they
// share (what the option does, which sockets get bound, the options, how to
// check it works) is written once, in docs/snippets/, and copied into every
// document that asks for it between these two lines:
//   <!-- snippet: which-sockets -->
//   <!-- /snippet -->
// The documents are the top-level README, the docs pages (docs/*.md) and the
// packages' READMEs. A snippet has one home in the repository (the README or
// one docs page) and is copied from there into the packages' READMEs.
// `node scripts/readmes.mjs` rewrites the copies; `--check` only says which
// document is out of date (exit 1), for the tests.
//
// A snippet is copied into files in different folders, and a package's
// README is read on npm, where a relative link leads nowhere: a snippet's
// links are absolute (https://github.com/tcp-user-timeout/tcp-user-timeout-node/blob/main/docs/rules.md),
// and one with a relative link is refused.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const SNIPPETS = join(ROOT, 'docs', 'snippets')
const BLOCK = /(<!-- snippet: ([a-z0-9-]+) -->\n)[\s\S]*?(<!-- \/snippet -->)/g
/** A Markdown link or image target that is not absolute (no scheme) and not an anchor of the page it is in. */
const RELATIVE_LINK = /\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s]+)/gi

const exists = (file) => {
  try {
    readFileSync(join(ROOT, file))
    return true
  } catch {
    return false
  }
}

/**
 * Every document that may carry snippets, relative to the repository root:
 * README.md, docs/*.md, packages/<name>/README.md.
 */
export function documents() {
  const pages = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name))
  const packages = readdirSync(join(ROOT, 'packages'))
    .sort()
    .map((dir) => join('packages', dir, 'README.md'))
  return ['README.md', ...pages, ...packages].filter(exists)
}

/** The READMEs alone (the top-level one and the packages'). */
export function readmes() {
  return documents().filter((file) => file.endsWith('README.md'))
}

/** A snippet's text; throws when it does not exist or carries a relative link. */
export function snippet(name, file = 'a document') {
  let body
  try {
    body = readFileSync(join(SNIPPETS, `${name}.md`), 'utf8')
  } catch {
    throw new Error(`${file}: no snippet docs/snippets/${name}.md`)
  }
  const relative = [...body.matchAll(RELATIVE_LINK)].map((m) => m[1])
  if (relative.length > 0) {
    throw new Error(
      `docs/snippets/${name}.md: relative link ${relative.join(', ')}; a snippet is copied into other folders and onto npm, so give its links as https://github.com/tcp-user-timeout/tcp-user-timeout-node/blob/main/...`,
    )
  }
  return body.endsWith('\n') ? body : `${body}\n`
}

/** The document's text with every snippet block refilled; throws on a snippet that does not exist. */
export function filled(file) {
  const text = readFileSync(join(ROOT, file), 'utf8')
  return text.replace(BLOCK, (_, open, name, close) => `${open}${snippet(name, file)}${close}`)
}

/** The snippets each document includes, by name. */
export function includes(file) {
  return [...readFileSync(join(ROOT, file), 'utf8').matchAll(BLOCK)].map((m) => m[2])
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check')
  const stale = []
  const used = new Set()
  for (const file of documents()) {
    for (const name of includes(file)) used.add(name)
    const next = filled(file)
    if (next === readFileSync(join(ROOT, file), 'utf8')) continue
    if (check) stale.push(file)
    else writeFileSync(join(ROOT, file), next)
  }
  const unused = readdirSync(SNIPPETS)
    .filter((name) => name.endsWith('.md') && !used.has(name.slice(0, -3)))
    .map((name) => `docs/snippets/${name}`)
  if (unused.length > 0) {
    console.error(`included nowhere: ${unused.join(', ')}; include it (<!-- snippet: name -->) or delete it`)
    process.exit(1)
  }
  if (stale.length > 0) {
    console.error(`out of date with docs/snippets/: ${stale.join(', ')}; run \`node scripts/readmes.mjs\``)
    process.exit(1)
  }
}
