// The adapters, one module each in this folder, named after the adapter:
// its app fixture (the one app of its framework that the tests, the benches,
// the examples' checks and the demo build) and `adapter`, what the rest of
// the repository needs to know of the package (index.d.mts, AdapterFacts).
// This folder is the list: a module added here puts its adapter in every
// test, bench, packaging check and example run that iterates ADAPTERS or
// FRAMEWORKS, with nothing else to edit. Plain JavaScript (typed by
// index.d.mts): the benches and the demo run under plain `node`. A module
// imports its framework and its adapter only when first used: a process
// loads only its own, and an app without the adapter pays nothing of the
// adapter's client hooks.
import { readdirSync } from 'node:fs'

const here = new URL('.', import.meta.url)
const names = readdirSync(here)
  .filter((file) => file.endsWith('.mjs') && file !== 'index.mjs')
  .map((file) => file.slice(0, -'.mjs'.length))
  .sort()
// By URL, left to Node: a bundler's glob of `./${name}.mjs` would take in this module too.
const load = (name) => import(/* @vite-ignore */ new URL(`${name}.mjs`, here).href)
const fixtures = new Map(await Promise.all(names.map(async (name) => [name, await load(name)])))

/** Every adapter, by name: what its fixture module declares of it. */
export const ADAPTERS = Object.freeze(names.map((name) => Object.freeze({ name, ...fixtures.get(name).adapter })))

/** The adapters of HTTP frameworks (kind 'http'): the ones createApp builds an app for. */
export const FRAMEWORKS = Object.freeze(ADAPTERS.filter((a) => a.kind === 'http').map((a) => a.name))

function fixtureOf(name, kind) {
  const fixture = fixtures.get(name)
  if (fixture === undefined) throw new Error(`unknown adapter ${name}; one of ${names.join(', ')}`)
  if (kind !== undefined && fixture.adapter.kind !== kind) {
    throw new Error(`${name} is a ${fixture.adapter.kind} adapter, not ${kind}`)
  }
  return fixture
}

/** The fixture module of an HTTP framework's adapter. */
export function httpFixture(framework) {
  return fixtureOf(framework, 'http')
}

/** The fixture module of a call adapter (an RPC server's handlers). */
export function callFixture(name) {
  return fixtureOf(name, 'call')
}

/** Builds `framework`'s app from `options` and listens on 127.0.0.1 port 0 (see index.d.mts). */
export async function createApp(framework, options) {
  const { start } = await loadFramework(framework)
  return start(options)
}

/** Imports the framework now (createApp otherwise does on first use): a clock started later does not count it. */
export async function loadFramework(name) {
  const fixture = fixtureOf(name)
  await fixture.load()
  return fixture
}

/**
 * The `use` that puts the adapter in as its README shows it (each fixture's
 * `use`). Imports the adapter (and so the core's client hooks) only now.
 */
export async function useAdapter(name, ...args) {
  const fixture = fixtureOf(name)
  if (fixture.use === undefined) throw new Error(`${name} has no app to put its adapter in`)
  return fixture.use(await import(fixture.adapter.package), ...args)
}
