import { z } from 'zod';
import type { RouteDef } from '../http/route';
import { ERROR_STATUS } from '../errors';
import { EXTRA_PARAMETERS, EXTRA_RESPONSES, OPERATIONS_PATHS, RESPONSE_COMPONENTS, SUCCESS_RESPONSES } from './responses';

const AUTH_NOTE: Record<RouteDef['auth'], string> = {
  user: 'Credentials: a user token (`Authorization: Bearer <JWT>`) or a management API key.',
  sdk: 'Credentials: an SDK key (`X-API-Key` or `Authorization: Bearer`); it fixes the environment.',
  any: 'Credentials: a user token, a management key or an SDK key.',
  none: 'No credentials.',
};

const COMMON_ERRORS = [
  'VALIDATION_ERROR',
  'AUTHENTICATION_REQUIRED',
  'PERMISSION_DENIED',
  'RESOURCE_NOT_FOUND',
  'RATE_LIMIT_EXCEEDED',
  'PAYLOAD_TOO_LARGE',
  'INTERNAL_ERROR',
];

/** Named schemas collected while building, published under `components.schemas`. */
const components: Record<string, unknown> = {};

/** Points zod's local `#/definitions/X` (or `$defs`) refs at `#/components/schemas/X`. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out[k] = v.replace(/^#\/(definitions|\$defs)\//, '#/components/schemas/');
    else out[k] = rewriteRefs(v);
  }
  return out;
}

function jsonSchema(schema: z.ZodType): unknown {
  // Conditions are validated by hand (for precise error paths), so they appear as open objects.
  const js = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  const { definitions, $defs, ...rest } = js as { definitions?: Record<string, unknown>; $defs?: Record<string, unknown> };
  for (const [name, def] of Object.entries({ ...(definitions ?? {}), ...($defs ?? {}) })) components[name] ??= rewriteRefs(def);
  return rewriteRefs(rest);
}

/**
 * OpenAPI 3.0 spellings that linters and UIs handle: zod writes a lone reference as
 * `allOf: [ref]` and a nullable reference as `{nullable, allOf: [ref]}`, but `nullable` only
 * counts beside a `type` (3.0.3), so the referenced schema's type (or `object`) is added.
 */
function tidy(node: unknown, schemas: Record<string, unknown>): unknown {
  if (Array.isArray(node)) return node.map((n) => tidy(n, schemas));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = tidy(v, schemas);
  const allOf = out.allOf as { $ref?: string }[] | undefined;
  if (Array.isArray(allOf) && allOf.length === 1 && typeof allOf[0]?.$ref === 'string') {
    const keys = Object.keys(out).filter((k) => k !== 'allOf');
    if (keys.length === 0) return allOf[0];
    if (out.nullable === true && out.type === undefined) {
      const target = schemas[allOf[0].$ref.replace('#/components/schemas/', '')] as { type?: string } | undefined;
      out.type = target?.type ?? 'object';
    }
  }
  return out;
}

/** The version of the one stored resource a response carries. */
const ETAG_HEADER = {
  description: 'the resource\'s version as a strong entity tag, `"<version>"`; send it back as If-Match',
  schema: { type: 'string', example: '"3"' },
};

/** Optimistic concurrency on a write of one stored resource. */
const IF_MATCH = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description:
    'apply only if the resource is still at this version (the ETag it was read with), else 412 PRECONDITION_FAILED; `*` matches any existing version. Without it the change is applied to the latest version.',
  schema: { type: 'string', example: '"3"' },
};

const errorEnvelope = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'request_id', 'documentation_url'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_STATUS) },
        message: { type: 'string' },
        details: {},
        request_id: { type: 'string' },
        documentation_url: { type: 'string' },
      },
    },
  },
};

/**
 * Builds the OpenAPI 3.0 document from the same route definitions (and zod schemas) the server
 * validates with, so the two cannot drift.
 */
export function buildOpenApi(
  groups: { prefix: string; routes: readonly RouteDef<any, any>[] }[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const paths = { ...OPERATIONS_PATHS } as Record<string, Record<string, unknown>>;
  // `extra` holds OFREP's operations, which an SDK key calls.
  for (const [path, ops] of Object.entries(extra as Record<string, Record<string, Record<string, unknown>>>))
    paths[path] = Object.fromEntries(Object.entries(ops).map(([m, op]) => [m, { description: AUTH_NOTE.sdk, ...op }]));
  for (const { prefix, routes } of groups) {
    for (const r of routes) {
      const path = (prefix + r.path).replace(/:([A-Za-z_]+)/g, '{$1}');
      const params = [...path.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => ({
        name: m[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      const query: unknown[] = [];
      if (r.query !== undefined) {
        const js = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, schema] of Object.entries(js.properties ?? {}))
          query.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema });
      }
      // Every management call acts in one environment (an SDK key's own is fixed).
      if ((r.auth === 'user' || r.auth === 'any') && !query.some((q) => (q as { name: string }).name === 'environment'))
        query.push({
          name: 'environment',
          in: 'query',
          required: false,
          description: "the environment to act in (default: the default environment; an SDK key's own always wins); unknown: 404",
          schema: { type: 'string' },
        });
      const id = `${r.method} ${path}`;
      const documented = SUCCESS_RESPONSES[id];
      if (r.versioned === 'write') query.push(IF_MATCH);
      const etag = r.versioned !== undefined && r.success.status !== 204 ? { ETag: ETAG_HEADER } : {};
      const responses: Record<string, unknown> = {
        [String(r.success.status)]: {
          description: r.success.description,
          ...(documented?.headers || etag.ETag ? { headers: { ...documented?.headers, ...etag } } : {}),
          ...(r.success.status === 204
            ? {}
            : {
                // A route's own schema is its JSON; other media types come from the response table.
                content: r.success.schema
                  ? { 'application/json': { schema: jsonSchema(r.success.schema) }, ...documented?.content }
                  : (documented?.content ?? {
                      'application/json': { schema: { type: 'object', properties: { data: {}, meta: { type: 'object' } } } },
                    }),
              }),
        },
        ...EXTRA_RESPONSES[id],
      };
      if (r.versioned === 'write')
        responses['412'] = {
          description: 'PRECONDITION_FAILED: If-Match names another version than the stored one (details.current_version)',
          headers: { ETag: ETAG_HEADER },
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        };
      for (const code of [...COMMON_ERRORS, ...(r.errors ?? [])]) {
        const status = String(ERROR_STATUS[code as keyof typeof ERROR_STATUS]);
        if (code === 'AUTHENTICATION_REQUIRED' && r.auth === 'none') continue;
        responses[status] ??= { description: code, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      }
      const op: Record<string, unknown> = {
        summary: r.summary,
        tags: [r.tag],
        operationId: `${r.method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
        description: AUTH_NOTE[r.auth],
        parameters: [...params, ...query, ...(EXTRA_PARAMETERS[id] ?? [])],
        responses,
        security: r.auth === 'none' ? [] : r.auth === 'sdk' ? [{ apiKey: [] }, { bearer: [] }] : [{ bearer: [] }, { apiKey: [] }],
      };
      if (r.deprecated !== undefined) {
        op.deprecated = true;
        op.description = `${AUTH_NOTE[r.auth]} Deprecated since ${r.deprecated.since}; removed after ${r.deprecated.sunset}. Migration: ${r.deprecated.link}`;
      }
      if (prefix === '/api/beta') op['x-beta'] = true;
      const body = r.body ?? r.docBody;
      if (body !== undefined) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(body) } } };
      (paths[path] ??= {})[r.method] = op;
    }
  }
  const schemas = { ...components, ...RESPONSE_COMPONENTS, Error: errorEnvelope };
  return tidy(
    {
      openapi: '3.0.3',
      info: {
        title: 'Switchyard API',
        version: '1.0.0',
        description: 'Management API and SDK endpoints of Switchyard. Errors use one envelope; see docs/errors.md.',
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [{ url: '/' }],
      paths,
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or API key' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
        schemas,
      },
    },
    schemas,
  ) as Record<string, unknown>;
}
