import { randomUUID } from 'node:crypto';

/**
 * The answer to a request that arrives after the port is bound but before start-up has finished
 * (first-start set-up, demo seed): a 503 in the documented envelope, with `Retry-After`.
 * The port is bound first so that a busy port fails a start before any once-only secret is made.
 */
export function startingResponse(docsBaseUrl: string): Response {
  const requestId = randomUUID();
  const body = {
    error: {
      code: 'SERVICE_UNAVAILABLE',
      message: 'the server is starting; retry in a moment',
      details: null,
      request_id: requestId,
      documentation_url: `${docsBaseUrl}/errors.md#SERVICE_UNAVAILABLE`,
    },
  };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: { 'Content-Type': 'application/json', 'Retry-After': '1', 'X-Request-ID': requestId },
  });
}
