import { defineConfig } from 'tsup'
import { base } from '../../tsup.base.js'

// Two entries, the application's and the adapter authors', split into one
// shared chunk in both formats, so that loading both entries of one build
// runs each module once (one set of error classes, one `install`).
//
// ffi-rs is loaded lazily at run time, from node_modules (a native addon
// cannot be bundled). No shims: the CommonJS build must use its real
// `require`, which native-load.ts picks where `import.meta.url` is absent.
// tsup makes a split CommonJS build from an ESM one, which would keep
// `import.meta` as is (a syntax error in CommonJS): it is defined away there.
export default defineConfig({
  ...base,
  entry: ['src/index.ts', 'src/adapter.ts'],
  splitting: true,
  external: ['ffi-rs'],
  esbuildOptions(options, { format }) {
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' }
    if (format === 'cjs') options.define = { ...options.define, 'import.meta.url': 'undefined' }
  },
})
