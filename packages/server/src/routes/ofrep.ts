import type { Context, Hono } from 'hono';
import { createHash } from 'node:crypto';
import { evaluate, evaluateAll, type CompiledConfig, type EvaluationDetail } from '@switchyard/core';
import type { Actor } from '../auth/actor';
import type { Authenticator } from '../auth/authenticate';
import { ApiError } from '../errors';
import type { AppEnv } from '../http/app-env';
import { UNAVAILABLE_RETRY_AFTER_SECONDS } from '../http/error-handler';
import { readBodyText } from '../http/read-body';
import { isStoreUnavailable } from '../store/store-errors';
import { parseJsonBody } from '../http/route';
import type { ServerContext } from '../services/context';

/**
 * OpenFeature Remote Evaluation Protocol (OFREP), so OpenFeature's stock OFREP providers
 * (`@openfeature/ofrep-provider`, `@openfeature/ofrep-web-provider`, and the other languages'
 * ones) evaluate Switchyard flags and experiments without a Switchyard SDK.
 *
 * - `POST /ofrep/v1/evaluate/flags/{key}` `{context}` -> `{key, value, reason, variant, metadata}`
 *   or `{key, errorCode, errorDetails}` (400 / 404).
 * - `POST /ofrep/v1/evaluate/flags` `{context}` -> `{flags: [...]}` with an `ETag`;
 *   `If-None-Match` with that tag -> `304`.
 *
 * These answers follow OFREP's shapes, not Switchyard's `{data}` / `{error}` envelope, so the
 * handlers are raw Hono handlers that catch their own errors. Decisions are in `docs/ofrep.md`.
 */

/** What OFREP's `errorCode` may say (OpenFeature error codes). */
type OfrepErrorCode = 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL' | 'FLAG_NOT_FOUND';

/** A failed request or flag, in OFREP's shape; `status` is the HTTP status of a whole-request failure. */
class OfrepError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 429 | 500,
    readonly errorCode: OfrepErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Primitive metadata only: OpenFeature's flag metadata is `Record<string, string | number | boolean>`. */
type Metadata = Record<string, string | number | boolean>;

/** One evaluated flag as OFREP carries it: a success, a code-default deferral or a per-flag error. */
type OfrepFlag =
  | { key: string; value?: unknown; reason: string; variant?: string; metadata: Metadata }
  | { key: string; errorCode: OfrepErrorCode; errorDetails: string; metadata?: Metadata };

/** Reads the request body: empty means `{}` (the spec's request body is optional). */
async function readBody(c: Context<AppEnv>): Promise<unknown> {
  const text = await readBodyText(c);
  if (text.trim() === '') return {};
  try {
    return parseJsonBody(text);
  } catch (e) {
    throw new OfrepError(400, 'PARSE_ERROR', (e as Error).message);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * OFREP's `{context: {targetingKey, ...attributes}}` -> a Switchyard context: `targetingKey`
 * becomes the unit id `key` (it wins over an attribute called `key`; an empty one counts as
 * absent), every other attribute passes through unchanged.
 */
export function toSwitchyardContext(body: unknown): Record<string, unknown> {
  if (!isRecord(body)) throw new OfrepError(400, 'INVALID_CONTEXT', 'the request body must be a JSON object: {"context": {...}}');
  const raw = body.context;
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new OfrepError(400, 'INVALID_CONTEXT', 'context must be a JSON object');
  const { targetingKey, ...attributes } = raw;
  if (targetingKey !== undefined && targetingKey !== null && typeof targetingKey !== 'string') {
    throw new OfrepError(
      400,
      'INVALID_CONTEXT',
      `context.targetingKey must be a string, not ${Array.isArray(targetingKey) ? 'an array' : typeof targetingKey}`,
    );
  }
  const context: Record<string, unknown> = { ...attributes };
  if (typeof targetingKey === 'string' && targetingKey !== '') context.key = targetingKey;
  return context;
}

/** JSON with object keys sorted at every level, so equal contexts hash equally whatever their key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isRecord(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The bulk answer's entity tag: the config version plus a hash of the (canonical) context it was
 * evaluated for. Evaluation is a pure function of the two, so equal tags mean equal bodies, and a
 * 304 needs no evaluation at all. The `ofrep/1` prefix lets a change of the response format
 * invalidate old tags.
 */
export function bulkEtag(version: number, context: Record<string, unknown>): string {
  const hash = createHash('sha256')
    .update(`ofrep/1\n${version}\n${canonicalJson(context)}`)
    .digest('base64url')
    .slice(0, 22);
  return `"${version}-${hash}"`;
}

/** RFC 9110 `If-None-Match`: a list of (possibly weak) tags or `*`; weak comparison. */
function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || strip(t) === etag);
}

/**
 * One detail -> OFREP. A detail with a variant is a success. One without a variant means "the
 * caller's default" (a disabled flag or failed prerequisite without an off variant, a unit not
 * enrolled in an experiment): OFREP's code-default deferral, a success *without* `value` (and
 * without `variant`). Reason `ERROR` becomes a per-flag error.
 */
function toOfrep(key: string, d: EvaluationDetail, version: number): OfrepFlag {
  const metadata: Metadata = { config_version: version };
  if (d.ruleId !== undefined) metadata.rule_id = d.ruleId;
  if (d.inExperiment !== undefined) metadata.in_experiment = d.inExperiment;
  if (d.experiment !== undefined) metadata.experiment = d.experiment;
  if (d.reason === 'ERROR') {
    const errorCode: OfrepErrorCode =
      d.errorCode === 'TARGETING_KEY_MISSING' || d.errorCode === 'PARSE_ERROR' || d.errorCode === 'FLAG_NOT_FOUND'
        ? d.errorCode
        : 'GENERAL';
    const errorDetails =
      errorCode === 'TARGETING_KEY_MISSING'
        ? `flag '${key}' splits traffic and needs a unit id: send context.targetingKey (or the flag's bucket_by attribute)`
        : errorCode === 'FLAG_NOT_FOUND'
          ? `flag '${key}' was not found`
          : `flag '${key}' could not be evaluated (${d.errorCode ?? 'GENERAL'}): its configuration serves an unknown variant`;
    return { key, errorCode, errorDetails, metadata };
  }
  if (d.variant === null) return { key, reason: d.reason, metadata };
  return { key, value: d.value, reason: d.reason, variant: d.variant, metadata };
}

/** The HTTP status of a single-flag error: 404 for an unknown flag, 400 otherwise (the spec's schemas). */
function statusOf(code: OfrepErrorCode): 400 | 404 {
  return code === 'FLAG_NOT_FOUND' ? 404 : 400;
}

/**
 * Registers the OFREP endpoints. Auth: a client key (browser-safe; it only ever sees evaluated
 * results, which is all OFREP returns) or a server key, as `Authorization: Bearer <key>` or
 * `X-API-Key`. Rate limits, CORS, the body limit and request ids come from the app's middleware.
 */
export function mountOfrep(app: Hono<AppEnv>, ctx: ServerContext, authenticate: Authenticator): void {
  /**
   * Authenticates an SDK (server or client) key; any failure comes back as an {@link OfrepError}.
   * Resolves to the compiled config of the key's environment.
   */
  async function requireSdkKey(c: Context<AppEnv>): Promise<CompiledConfig> {
    let actor: Actor;
    try {
      actor = await authenticate(c, false);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) throw new OfrepError(e.status, 'GENERAL', e.message);
      throw e;
    }
    if (actor.type !== 'api_key' || actor.kind === 'management') {
      throw new OfrepError(403, 'GENERAL', 'OFREP endpoints take a client or server API key (Authorization: Bearer <key> or X-API-Key)');
    }
    const environment = actor.environment ?? ctx.options.defaultEnvironment;
    c.set('environment', environment);
    return (await ctx.environments.get(environment)).config.compiled();
  }

  /**
   * Whole-request failures: 401/403 carry `{errorDetails}` (the spec gives them no body), 400/404
   * the single or bulk failure shape; anything unexpected is logged and answered 500 `GENERAL`.
   */
  function fail(c: Context<AppEnv>, e: unknown, key: string | null): Response {
    if (isStoreUnavailable(e)) {
      // A key this instance has not seen while the database is down: retryable, as everywhere else.
      c.header('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      return c.json({ errorCode: 'GENERAL', errorDetails: 'the database is unavailable; retry later' }, 503);
    }
    if (!(e instanceof OfrepError)) {
      (c.get('log') ?? ctx.logger).error({ err: e }, 'OFREP evaluation failed');
      e = new OfrepError(
        500,
        'GENERAL',
        `an unexpected error occurred; request id ${c.get('requestId') ?? ''} identifies it in the server log`,
      );
    }
    const err = e as OfrepError;
    if (err.status === 401 || err.status === 403) return c.json({ errorDetails: err.message }, err.status);
    const body =
      key === null ? { errorCode: err.errorCode, errorDetails: err.message } : { key, errorCode: err.errorCode, errorDetails: err.message };
    return c.json(body, err.status);
  }

  app.post('/ofrep/v1/evaluate/flags/:key', async (c) => {
    const key = c.req.param('key');
    try {
      const compiled: CompiledConfig = await requireSdkKey(c);
      const context = toSwitchyardContext(await readBody(c));
      if (!compiled.entries.has(key)) throw new OfrepError(404, 'FLAG_NOT_FOUND', `flag '${key}' was not found`);
      const flag = toOfrep(key, evaluate(compiled, key, context, null), compiled.version);
      if ('errorCode' in flag) return c.json(flag, statusOf(flag.errorCode));
      return c.json(flag, 200);
    } catch (e) {
      return fail(c, e, key);
    }
  });

  app.post('/ofrep/v1/evaluate/flags', async (c) => {
    try {
      const compiled = await requireSdkKey(c);
      const context = toSwitchyardContext(await readBody(c));
      const etag = bulkEtag(compiled.version, context);
      c.header('ETag', etag);
      if (matchesIfNoneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304);
      const flags: OfrepFlag[] = [];
      for (const [key, d] of Object.entries(evaluateAll(compiled, context))) flags.push(toOfrep(key, d, compiled.version));
      return c.json({ flags }, 200);
    } catch (e) {
      return fail(c, e, null);
    }
  });
}

const errorDetails = { type: 'string', description: 'A description of the error, for logs' };
const metadata = {
  type: 'object',
  description:
    'config_version (number), rule_id (string, when a rule matched), in_experiment (boolean, experiment keys and flags serving an experiment), experiment (string: the experiment a flag served the unit through, whose key an exposure is recorded under)',
  additionalProperties: { oneOf: [{ type: 'boolean' }, { type: 'string' }, { type: 'number' }] },
};
const evaluationSuccess = {
  type: 'object',
  description:
    "A success. Without `value` (and `variant`) it defers to the caller's code default (OFREP ADR 0006): a disabled flag without an off variant, a unit outside an experiment.",
  required: ['key', 'reason'],
  properties: {
    key: { type: 'string' },
    value: { description: 'The served value: boolean, string, number or JSON' },
    reason: { type: 'string', enum: ['TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'PREREQUISITE_FAILED'] },
    variant: { type: 'string' },
    metadata,
  },
};
const evaluationFailure = {
  type: 'object',
  required: ['key', 'errorCode'],
  properties: {
    key: { type: 'string' },
    errorCode: { type: 'string', enum: ['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL', 'FLAG_NOT_FOUND'] },
    errorDetails,
    metadata,
  },
};
const requestBody = {
  required: false,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          context: {
            type: 'object',
            description: "OpenFeature evaluation context; `targetingKey` becomes Switchyard's unit id `key`",
            properties: { targetingKey: { type: 'string' } },
            additionalProperties: true,
          },
        },
      },
    },
  },
};
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const authErrors = {
  401: { description: 'No, or an invalid or revoked, API key', ...json({ type: 'object', properties: { errorDetails } }) },
  403: {
    description: 'A management key or user token instead of a client or server key',
    ...json({ type: 'object', properties: { errorDetails } }),
  },
  429: {
    description: 'Rate limit reached; `Retry-After` gives the seconds to wait (Switchyard error envelope)',
    headers: { 'Retry-After': { schema: { type: 'string' } } },
  },
  500: { description: 'Internal error', ...json({ type: 'object', properties: { errorCode: { type: 'string' }, errorDetails } }) },
};
const security = [{ bearer: [] }, { apiKey: [] }];

/**
 * The two OFREP operations as an OpenAPI 3.0 paths fragment, for `buildOpenApi(groups, extra)`.
 * Hand-written because the answers are OFREP's shapes, not Switchyard's envelope.
 */
export const ofrepOpenApiPaths: Record<string, unknown> = {
  '/ofrep/v1/evaluate/flags/{key}': {
    post: {
      summary: 'OFREP: evaluate one flag or experiment for a context',
      tags: ['OFREP'],
      operationId: 'postOfrepV1EvaluateFlagsKey',
      parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody,
      security,
      responses: {
        200: { description: 'Evaluated', ...json(evaluationSuccess) },
        400: {
          description: 'PARSE_ERROR (body not JSON), INVALID_CONTEXT, TARGETING_KEY_MISSING (a split without a unit id) or GENERAL',
          ...json(evaluationFailure),
        },
        404: { description: 'FLAG_NOT_FOUND', ...json(evaluationFailure) },
        ...authErrors,
      },
    },
  },
  '/ofrep/v1/evaluate/flags': {
    post: {
      summary: 'OFREP: evaluate every flag and experiment for a context',
      tags: ['OFREP'],
      operationId: 'postOfrepV1EvaluateFlags',
      parameters: [
        {
          name: 'If-None-Match',
          in: 'header',
          required: false,
          schema: { type: 'string' },
          description: 'The ETag of an earlier answer for the same context',
        },
      ],
      requestBody,
      security,
      responses: {
        200: {
          description: 'Every flag and experiment, successes and per-flag errors mixed',
          headers: { ETag: { schema: { type: 'string' }, description: 'Changes when the config version or the context changes' } },
          ...json({
            type: 'object',
            required: ['flags'],
            properties: { flags: { type: 'array', items: { oneOf: [evaluationSuccess, evaluationFailure] } } },
          }),
        },
        304: { description: 'Not modified: the If-None-Match tag is current' },
        400: {
          description: 'PARSE_ERROR or INVALID_CONTEXT',
          ...json({ type: 'object', required: ['errorCode'], properties: { errorCode: { type: 'string' }, errorDetails } }),
        },
        ...authErrors,
      },
    },
  },
};
