import { defineConfig } from 'tsup'
import { base } from '../../tsup.base.js'

// @grpc/grpc-js is the application's (a peer): found at run time with the
// CommonJS `require` (peer.ts), never bundled. No shims: the CommonJS build
// uses its real `require`, which peer.ts picks where `import.meta.url` is
// absent, as the core's native-load.ts does.
export default defineConfig({
  ...base,
  external: ['@grpc/grpc-js'],
  esbuildOptions(options, { format }) {
    options.logOverride = { ...options.logOverride, 'empty-import-meta': 'silent' }
    if (format === 'cjs') options.define = { ...options.define, 'import.meta.url': 'undefined' }
  },
})
