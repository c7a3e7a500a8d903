import { clientPaths } from './client-paths.body.js'

clientPaths(5)
