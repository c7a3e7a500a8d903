import { install } from './hooks/install.js'

// The hooks go in at import of either entry, before the application opens
// its boot sockets (DB pools, warmed HTTP pools), so that those are known to
// be boot sockets and no request scope ever binds them. Importing never throws.
try {
  install()
} catch {
  // An exotic runtime without the expected net/http internals: stay a no-op.
}
