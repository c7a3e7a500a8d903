/** The injection token of the upstream's base URL (a real service would inject its API client instead). */
export const UPSTREAM_URL = Symbol('UPSTREAM_URL')

/** The budget a header may ask for, in seconds: the app-wide policy and every route's own policy name it. */
export const BUDGET_HEADER = 'x-request-timeout-s'
