import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { ApiError, type ErrorDetail } from '../errors';
import type { AppEnv } from './app-env';
import { etagOfBody } from './preconditions';
import { readBodyText } from './read-body';
import type { Authenticator } from '../auth/authenticate';

/** HTTP methods the API uses. */
export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What a handler returns: a JSON body to wrap, or a finished Response (SSE, CSV, 204...). */
export type HandlerResult = { status?: number; data: unknown; meta?: Record<string, unknown>; headers?: Record<string, string> } | Response;

/**
 * One route: its validation schemas double as its OpenAPI description, so the document can
 * never drift from what the server accepts.
 */
export interface RouteDef<B = unknown, Q = unknown> {
  method: Method;
  /** Hono-style path, `/feature-flags/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** `user` (JWT or management key), `sdk` (server/client key), `any` or `none`. */
  auth: 'user' | 'sdk' | 'any' | 'none';
  body?: z.ZodType<B>;
  /** Documents a body the handler validates itself (event batches are checked by hand, for speed). */
  docBody?: z.ZodType;
  query?: z.ZodType<Q>;
  /** Success status and a short description of the response. */
  success: { status: number; description: string; schema?: z.ZodType };
  /** Error codes this route is documented to return besides the common ones. */
  errors?: string[];
  /**
   * One stored resource with a `version`: `read` answers it with an `ETag`; `write` also
   * honours `If-Match` (a stale one is `412 PRECONDITION_FAILED`). Documents both in OpenAPI;
   * the ETag itself is set for any single-resource body.
   */
  versioned?: 'read' | 'write';
  /**
   * Marks the route deprecated: every response carries `Deprecation` (RFC 9745), `Sunset`
   * (RFC 8594) and a `Link` to the migration notes, and the OpenAPI operation says so.
   * `since` and `sunset` are ISO dates; the sunset is at least 12 months after `since`.
   */
  deprecated?: { since: string; sunset: string; link: string };
  handler: (c: Context<AppEnv>, input: { body: B; query: Q; params: Record<string, string> }) => Promise<HandlerResult>;
}

/** Declares a route with inferred body and query types. */
export function route<B = undefined, Q = undefined>(def: RouteDef<B, Q>): RouteDef<B, Q> {
  return def;
}

/** Zod issues to envelope details with dot-joined paths. */
export function zodDetails(error: z.ZodError, prefix: (string | number)[] = []): ErrorDetail[] {
  const join = (path: readonly PropertyKey[]) => [...prefix, ...path].map(String).join('.');
  // An unknown field is reported at its own path, not at its parent object's.
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: join([...i.path, k]), message: `unknown field '${k}'` }))
      : [{ path: join(i.path), message: i.message }],
  );
}

/**
 * Deepest nesting a request body may have. A 1 MiB body can nest brackets far deeper than the
 * recursive code after the parse (zod, JSON.stringify, evaluation) has stack for.
 */
export const MAX_JSON_DEPTH = 128;

/** Whether `root`, found at nesting level `depth` of a body, holds anything deeper than {@link MAX_JSON_DEPTH}. */
export function tooDeep(root: unknown, depth = 0): boolean {
  const stack: [unknown, number][] = [[root, depth]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v as object)) if (typeof x === 'object' && x !== null) stack.push([x, depth + 1]);
  }
  return false;
}

/**
 * Parses a JSON request body; malformed or absurdly nested JSON is a 400. `checkDepth: false`
 * is for a caller that bounds the depth of the only parts it recurses into itself (the event
 * batch checks each event's properties, instead of walking all of a 100 KiB batch).
 */
export function parseJsonBody(text: string, checkDepth = true): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text) as unknown;
  } catch (e) {
    throw new ApiError('VALIDATION_ERROR', `malformed JSON body: ${(e as Error).message}`);
  }
  if (checkDepth && typeof v === 'object' && v !== null && tooDeep(v))
    throw new ApiError('VALIDATION_ERROR', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return v;
}

async function readJson(c: Context<AppEnv>): Promise<unknown> {
  const text = await readBodyText(c);
  if (text.trim() === '') throw new ApiError('VALIDATION_ERROR', 'request body is empty; expected JSON');
  return parseJsonBody(text);
}

/**
 * @hono/node-server swaps the global `Response` for a lighter class, so a Response made
 * before that (like its own RESPONSE_ALREADY_SENT) fails `instanceof`: check the shape too.
 */
function isResponse(x: unknown): x is Response {
  if (x instanceof Response) return true;
  const r = x as { status?: unknown; headers?: unknown; clone?: unknown } | null;
  return (
    typeof r === 'object' && r !== null && typeof r.status === 'number' && typeof r.clone === 'function' && r.headers instanceof Headers
  );
}

/**
 * The headers of a deprecated route.
 *
 * @example
 * ```ts
 * deprecationHeaders({ since: '2027-01-01', sunset: '2028-01-01', link: 'https://example.com/migrate' });
 * // { Deprecation: '@1798761600', Sunset: 'Sat, 01 Jan 2028 00:00:00 GMT', Link: '<https://example.com/migrate>; rel="deprecation"' }
 * ```
 */
export function deprecationHeaders(d: { since: string; sunset: string; link: string }): Record<string, string> {
  return {
    Deprecation: `@${Math.floor(Date.parse(d.since) / 1000)}`,
    Sunset: new Date(d.sunset).toUTCString(),
    Link: `<${d.link}>; rel="deprecation"`,
  };
}

/**
 * Mounts routes on an app, validating inputs and wrapping results in the envelope. An
 * authenticated request's environment is resolved once (`resolveEnvironment`) and set on the
 * context before its body is read.
 */
export function mount(
  app: Hono<AppEnv>,
  prefix: string,
  routes: readonly RouteDef<any, any>[],
  authenticate: Authenticator,
  resolveEnvironment?: (c: Context<AppEnv>) => Promise<string>,
): void {
  for (const r of routes) {
    const deprecation = r.deprecated === undefined ? null : deprecationHeaders(r.deprecated);
    app.on(r.method.toUpperCase(), prefix + r.path, async (c) => {
      // Set first, so that error responses of a deprecated route carry them too.
      for (const [k, v] of Object.entries(deprecation ?? {})) c.header(k, v);
      if (r.auth !== 'none') {
        const actor = await authenticate(c, r.auth === 'sdk');
        const isSdkKey = actor.type === 'api_key' && actor.kind !== 'management';
        if (r.auth === 'user' && isSdkKey)
          throw new ApiError('PERMISSION_DENIED', `${actor.kind} keys cannot use the management API; use a management key or log in`);
        if (r.auth === 'sdk' && !isSdkKey) throw new ApiError('PERMISSION_DENIED', 'SDK endpoints take a server or client key');
        if (resolveEnvironment !== undefined) c.set('environment', await resolveEnvironment(c));
      }
      let body: unknown = undefined;
      if (r.body !== undefined) {
        const parsed = r.body.safeParse(await readJson(c));
        if (!parsed.success) throw new ApiError('VALIDATION_ERROR', 'request body is invalid', zodDetails(parsed.error));
        body = parsed.data;
      }
      let query: unknown = undefined;
      if (r.query !== undefined) {
        const parsed = r.query.safeParse(c.req.query());
        if (!parsed.success) throw new ApiError('VALIDATION_ERROR', 'query parameters are invalid', zodDetails(parsed.error));
        query = parsed.data;
      }
      const result = await r.handler(c, { body, query, params: c.req.param() });
      if (isResponse(result)) return result;
      // One stored resource: its version is the response's strong ETag, for If-Match.
      const etag = etagOfBody(result.data);
      if (etag !== undefined) c.header('ETag', etag);
      for (const [k, v] of Object.entries(result.headers ?? {})) c.header(k, v);
      const status = result.status ?? r.success.status;
      if (status === 204) return c.body(null, 204);
      const payload: Record<string, unknown> = { data: result.data };
      if (result.meta !== undefined) payload.meta = result.meta;
      return c.json(payload, status as 200);
    });
  }
}
