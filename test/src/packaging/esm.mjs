// `import`s every packed package (their ESM builds), as an ESM app does.
import { checkBehaviour, checkExports, report, spec } from './checks.mjs'

const mods = {}
const names = {}
for (const pkg of [...spec.packages, ...spec.entries]) {
  mods[pkg.name] = await import(pkg.name)
  names[pkg.name] = checkExports('ESM', mods[pkg.name], pkg)
}
const { support, bindCalls } = await checkBehaviour('ESM', mods)
// The ESM build really is the .js file (the exports map's import condition).
const resolved = Object.fromEntries(
  [...spec.packages, ...spec.entries].map((p) => [p.name, import.meta.resolve(p.name)]),
)
report({ names, support, bindCalls, resolved })
