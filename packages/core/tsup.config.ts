import { defineConfig } from 'tsup'
import { base } from '../../tsup.base.js'

// ffi-rs is loaded lazily at run time, from node_modules (a native addon
// cannot be bundled). No shims: the CommonJS build must use its real
// `require`, which native-load.ts picks where `import.meta.url` is absent;
// the empty `import.meta` of the CommonJS build is intended, so esbuild's
// warning about it is silenced.
export default defineConfig({
  ...base,
  external: ['ffi-rs'],
  esbuildOptions(options) {
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' }
  },
})
