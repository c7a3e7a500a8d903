import { defineConfig } from 'tsup'
import { base } from '../../tsup.base.js'

// ffi-rs is loaded lazily at runtime; shims give the CJS build import.meta.url.
export default defineConfig({ ...base, external: ['ffi-rs'], shims: true })
