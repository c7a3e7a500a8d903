/** What a request to an example app sends: the budget header, and a JSON body (which makes it a POST). */
export interface ExampleRequest {
  /** Sent as `x-request-timeout-s`, the header every example reads. */
  header?: string
  json?: unknown
}

/** One real HTTP request to an example app at `origin`, bounded by `timeoutMs`; its status and JSON body. */
export async function requestExample<Body>(
  origin: string,
  path: string,
  init: ExampleRequest,
  timeoutMs: number,
): Promise<{ status: number; body: Body }> {
  const headers: Record<string, string> = {}
  if (init.header !== undefined) headers['x-request-timeout-s'] = init.header
  if (init.json !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(origin + path, {
    method: init.json === undefined ? 'GET' : 'POST',
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
    signal: AbortSignal.timeout(timeoutMs),
  })
  return { status: res.status, body: (await res.json()) as Body }
}
