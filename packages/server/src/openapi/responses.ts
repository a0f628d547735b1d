/**
 * What each operation answers, for the OpenAPI document: the envelopes with their resource
 * schemas, other media types (CSV, SVG, server-sent events) and response headers. Request bodies
 * come from the routes' zod schemas; responses are described here, keyed by `METHOD path`, so
 * the route files stay about behaviour. `test/openapi.test.ts` checks that every operation has
 * a typed success response and that real responses have the documented shape.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): Schema => ({ type: 'string', ...(description ? { description } : {}) });
const time: Schema = { type: 'string', format: 'date-time' };
const nullable = (s: Schema): Schema => ({ ...s, nullable: true });
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties), extra: Schema = {}): Schema => ({
  type: 'object',
  required,
  properties,
  ...extra,
});

/** A resource object: `{id, type, attributes, relationships?}`. */
function resource(type: string, attributes: Schema, owner = true): Schema {
  return obj(
    {
      id: str(),
      type: { type: 'string', enum: [type] },
      attributes,
      ...(owner ? { relationships: ref('OwnerRelationship') } : {}),
    },
    ['id', 'type', 'attributes'],
  );
}

const single = (name: string): Schema => obj({ data: ref(name) });
const list = (name: string, meta: Schema = obj({ pagination: ref('Pagination') })): Schema =>
  obj({ data: { type: 'array', items: ref(name) }, meta });

const user = obj(
  {
    email: str(),
    name: nullable(str()),
    role: { type: 'string', enum: ['VIEWER', 'EXPERIMENTER', 'ADMIN'] },
    source: { type: 'string', enum: ['local', 'oidc'] },
    created_at: time,
    updated_at: time,
  },
  ['email', 'role', 'created_at'],
);

const apiKey = obj(
  {
    name: str(),
    kind: { type: 'string', enum: ['server', 'client', 'management'] },
    // OpenAPI 3.0: a nullable enum lists null among its values.
    role: nullable({ type: 'string', enum: ['VIEWER', 'EXPERIMENTER', 'ADMIN', null] }),
    environment: nullable(str('the environment a server or client key reads and writes; null for management keys')),
    prefix: str('the first characters of the key, to recognise it'),
    created_at: time,
    last_used_at: nullable(time),
    revoked_at: nullable(time),
    revoked: { type: 'boolean' },
    allowed_metrics: nullable({
      type: 'array',
      items: { type: 'string' },
      description: 'client keys: the only metric keys its track events may name; null = any',
    }),
  },
  ['name', 'kind', 'prefix', 'created_at', 'revoked'],
);

const detail = obj(
  {
    value: { description: 'the served value (any JSON type), or the default on an error' },
    variant: nullable(str()),
    reason: { type: 'string', enum: ['DEFAULT', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'PREREQUISITE_FAILED', 'ERROR'] },
    rule_id: str('the rule that matched (TARGETING_MATCH)'),
    error_code: str('set when reason is ERROR'),
    in_experiment: { type: 'boolean' },
    unit_id: str('the unit the exposure is counted under (experiments)'),
  },
  ['value', 'variant', 'reason'],
);

/** Component schemas of responses, merged into `components.schemas`. */
export const RESPONSE_COMPONENTS: Record<string, Schema> = {
  Pagination: obj({
    limit: { type: 'integer' },
    next_cursor: nullable(str('pass as ?cursor= for the next page; null on the last page')),
    has_more: { type: 'boolean' },
  }),
  OwnerRelationship: obj({ owner: obj({ data: nullable(obj({ id: str(), type: { type: 'string', enum: ['user'] } })) }) }, []),
  FeatureFlag: {
    ...resource('feature-flag', ref('FeatureFlagInput')),
    description:
      'A flag: its definition, the request environment\'s state at the top level, and every environment\'s state in "environments".',
    example: {
      id: 'e38bcfe8-9a6a-41bc-a1ea-650e629bd21c',
      type: 'feature-flag',
      attributes: {
        key: 'new-checkout',
        name: 'New checkout',
        type: 'boolean',
        variants: [
          { key: 'on', value: true },
          { key: 'off', value: false },
        ],
        bucket_by: 'key',
        salt: 'new-checkout',
        enabled: true,
        rules: [{ id: 'staff', when: { attr: 'email', op: 'ends_with', values: ['@example.com'] }, serve: { variant: 'on' } }],
        default_serve: { variant: 'off' },
        off_variant: 'off',
        environments: {
          production: { enabled: true, rules: [], default_serve: { variant: 'off' }, off_variant: 'off' },
        },
        created_at: '2026-12-04T19:42:44.963Z',
        updated_at: '2026-12-04T19:42:44.963Z',
      },
    },
  },
  Segment: resource('segment', ref('SegmentInput')),
  Experiment: resource('experiment', ref('ExperimentInput')),
  Environment: resource('environment', ref('EnvironmentInput'), false),
  User: resource('user', user, false),
  ApiKey: resource('api-key', apiKey),
  ApiKeyCreated: {
    ...resource('api-key', { allOf: [apiKey, obj({ key: str('the whole key: shown in this response only') })] }),
    description: 'The created key, with its secret: store it now, it is never shown again.',
  },
  AuditRecord: resource(
    'audit-record',
    obj(
      {
        at: time,
        actor: obj({ type: { type: 'string', enum: ['user', 'api_key', 'system'] }, id: nullable(str()), label: nullable(str()) }, [
          'type',
        ]),
        action: str('e.g. flag.update, experiment.start, auth.login'),
        resource: obj({ type: str(), id: nullable(str()), key: nullable(str()) }, ['type']),
        environment: nullable(str()),
        before: { description: 'the resource before the change (any JSON), or null' },
        after: { description: 'the resource after the change (any JSON), or null' },
        request_id: nullable(str()),
        ip: nullable(str()),
        user_agent: nullable(str()),
      },
      ['at', 'actor', 'action', 'resource'],
    ),
    false,
  ),
  EvaluationDetail: detail,
  ConfigDocument: obj(
    {
      schema_version: { type: 'integer', enum: [1] },
      version: { type: 'integer', description: "the environment's config version (also the ETag and the SSE event id)" },
      flags: { type: 'object', additionalProperties: { type: 'object' } },
      segments: { type: 'object', additionalProperties: { type: 'object' } },
      experiments: { type: 'object', additionalProperties: { type: 'object' } },
    },
    ['schema_version', 'version', 'flags', 'segments', 'experiments'],
  ),
  EventsAccepted: obj({
    accepted: { type: 'integer' },
    duplicates: { type: 'integer', description: 'ids already stored (a resent batch)' },
  }),
};

const etag: Schema = { ETag: { description: 'the version of what was returned; send it back as If-None-Match', schema: str() } };

/** A success response's content and headers, by `METHOD path` (the OpenAPI path). */
export const SUCCESS_RESPONSES: Record<string, { content: Record<string, Schema>; headers?: Schema }> = {};

const json = (schema: Schema, example?: unknown) => ({ 'application/json': { schema, ...(example === undefined ? {} : { example }) } });

function crud(base: string, name: string, methods: string[], listMeta?: Schema): void {
  SUCCESS_RESPONSES[`get ${base}`] = { content: json(list(name, listMeta)) };
  SUCCESS_RESPONSES[`post ${base}`] = { content: json(single(name)) };
  for (const m of methods) SUCCESS_RESPONSES[`${m} ${base}/{id}`] = { content: json(single(name)) };
}
crud('/api/v1/feature-flags', 'FeatureFlag', ['get', 'patch', 'put']);
crud('/api/v1/segments', 'Segment', ['get', 'patch', 'put']);
crud('/api/v1/experiments', 'Experiment', ['get', 'patch', 'put']);
crud('/api/v1/environments', 'Environment', ['get', 'patch', 'put'], obj({ pagination: ref('Pagination'), default_environment: str() }));
crud('/api/v1/users', 'User', ['get', 'patch']);
crud('/api/v1/api-keys', 'ApiKey', ['get']);
SUCCESS_RESPONSES['post /api/v1/api-keys'] = { content: json(single('ApiKeyCreated')) };
SUCCESS_RESPONSES['patch /api/v1/feature-flags/{id}/environments/{env}'] = { content: json(single('FeatureFlag')) };
SUCCESS_RESPONSES['post /api/v1/feature-flags/{id}/promote'] = { content: json(single('FeatureFlag')) };
for (const action of ['start', 'pause', 'resume', 'complete', 'archive'])
  SUCCESS_RESPONSES[`post /api/v1/experiments/{id}/${action}`] = { content: json(single('Experiment')) };
SUCCESS_RESPONSES['get /api/v1/audit-log'] = { content: json(list('AuditRecord')) };

const token = obj({
  access_token: str('a JWT for Authorization: Bearer'),
  token_type: { type: 'string', enum: ['Bearer'] },
  expires_in: { type: 'integer' },
});
SUCCESS_RESPONSES['post /api/v1/auth/login'] = { content: json(obj({ data: token })) };
SUCCESS_RESPONSES['get /api/v1/auth/me'] = {
  content: json(
    obj({
      data: {
        description: 'the signed-in user, or the API key whose credentials were sent',
        oneOf: [
          ref('User'),
          resource('api-key', obj({ name: str(), kind: str(), role: nullable(str()), created_by: nullable(str()) }, []), false),
        ],
      },
    }),
  ),
};
const session = (extra: Record<string, Schema>) =>
  json(obj({ data: obj({ user: ref('User'), csrf_token: str('send it back as X-CSRF-Token on writes made with the cookie'), ...extra }) }));
const cookie = { 'Set-Cookie': { description: 'the session cookie (HttpOnly): the access token lives only there', schema: str() } };
SUCCESS_RESPONSES['post /api/v1/auth/session'] = { content: session({ expires_in: { type: 'integer' } }), headers: cookie };
SUCCESS_RESPONSES['post /api/v1/auth/session/token'] = { content: session({ expires_in: { type: 'integer' } }), headers: cookie };
SUCCESS_RESPONSES['get /api/v1/auth/session'] = { content: session({}) };
SUCCESS_RESPONSES['get /api/v1/auth/providers'] = {
  content: json(obj({ data: obj({ password: { type: 'boolean' }, oidc: nullable(obj({ issuer: nullable(str()) })) }) })),
};

SUCCESS_RESPONSES['get /api/v1/feature-flags/{key}/evaluate'] = {
  content: json(
    obj({
      data: { allOf: [obj({ key: str() }), ref('EvaluationDetail')] },
      meta: obj({ config_version: { type: 'integer' }, environment: str() }),
    }),
  ),
};
SUCCESS_RESPONSES['get /api/v1/experiments/{id}/results'] = {
  content: {
    'text/csv': {
      schema: str('?format=csv: one row per metric and variant'),
      example:
        'metric,role,variant,units,count,mean,variance,absolute_lift,relative_lift,relative_ci_low,relative_ci_high,p_value,chance_to_beat_control,error\npurchase,primary,control,10011,984,0.0983,0.0886,,,,,,,\n',
    },
    'image/svg+xml': { schema: str('?format=svg: a forest plot of the relative lifts with their intervals') },
  },
};
const series = { type: 'array', items: nullable({ type: 'number' }) };
SUCCESS_RESPONSES['get /api/v1/experiments/{id}/results/timeseries'] = {
  content: json(
    obj({
      data: obj({
        experiment: obj({ id: str(), key: str(), status: str() }),
        days: { type: 'array', items: str('a UTC day, YYYY-MM-DD'), description: 'the end of each day the series are taken at' },
        variants: {
          type: 'array',
          items: obj({
            key: str(),
            units: { type: 'array', items: { type: 'integer' } },
            metrics: { type: 'object', additionalProperties: obj({ value: series, relative_lift: series }) },
          }),
        },
        metrics: {
          type: 'array',
          items: obj({ key: str(), type: { type: 'string', enum: ['conversion', 'mean'] }, role: str() }),
        },
        method: str(),
      }),
    }),
  ),
};
SUCCESS_RESPONSES['post /api/v1/events/batch'] = { content: json(obj({ data: ref('EventsAccepted') })) };
SUCCESS_RESPONSES['post /sdk/v1/events'] = { content: json(obj({ data: ref('EventsAccepted') })) };
SUCCESS_RESPONSES['get /sdk/v1/config'] = { content: json(ref('ConfigDocument')), headers: etag };
SUCCESS_RESPONSES['post /sdk/v1/evaluate'] = {
  content: json(
    obj({ data: obj({ version: { type: 'integer' }, flags: { type: 'object', additionalProperties: ref('EvaluationDetail') } }) }),
  ),
};
SUCCESS_RESPONSES['get /sdk/v1/stream'] = {
  content: {
    'text/event-stream': {
      schema: str(
        'Server-sent events. Server keys: `put` (the whole config document) then `patch` ({version, flags, segments, experiments}, null = deleted), each with the version as its id. Client keys: `put` with re-evaluated flags. Every heartbeat interval a named `heartbeat` event (data: the version) and a comment.',
      ),
      example:
        'retry: 1000\n\nid: 6\nevent: put\ndata: {"schema_version":1,"version":6,"flags":{},"segments":{},"experiments":{}}\n\nevent: heartbeat\ndata: 6\n\n',
    },
  },
};

/** Request headers an operation reads besides its parameters, by `METHOD path`. */
export const EXTRA_PARAMETERS: Record<string, Schema[]> = {
  'get /sdk/v1/config': [
    {
      name: 'If-None-Match',
      in: 'header',
      required: false,
      description: 'the ETag of the config the caller holds: 304 when unchanged',
      schema: str(),
    },
  ],
  'get /sdk/v1/stream': [
    {
      name: 'Last-Event-ID',
      in: 'header',
      required: false,
      description: 'resume after this version: the missed patches are replayed (or a put is sent)',
      schema: str(),
    },
  ],
};

/** Responses besides success and errors, by `METHOD path`. */
export const EXTRA_RESPONSES: Record<string, Record<string, Schema>> = {
  'get /sdk/v1/config': { '304': { description: 'Not modified: the If-None-Match tag is the current version', headers: etag } },
};

/** What Node's HTTP server answers (without a body) to a client too slow to send its request. */
const tooSlow = { '408': { description: 'The request did not arrive within SWITCHYARD_REQUEST_TIMEOUT_MS (no body)' } };

/** `/health`, `/ready` and `/metrics`: served outside the API, documented with it. */
export const OPERATIONS_PATHS: Record<string, Schema> = {
  '/health': {
    get: {
      summary: 'Liveness: the process answers',
      description: 'No credentials. For a load balancer or an orchestrator: answers while the process runs.',
      tags: ['Operations'],
      operationId: 'getHealth',
      security: [],
      responses: {
        ...tooSlow,
        '200': {
          description: 'Alive',
          content: json(obj({ data: obj({ status: { type: 'string', enum: ['ok'] } }) }), { data: { status: 'ok' } }),
        },
      },
    },
  },
  '/ready': {
    get: {
      summary: 'Readiness: the database answers',
      description: 'No credentials. Send traffic to an instance only while this answers 200.',
      tags: ['Operations'],
      operationId: 'getReady',
      security: [],
      responses: {
        ...tooSlow,
        '200': {
          description: 'Ready to serve',
          content: json(obj({ data: obj({ status: { type: 'string', enum: ['ready'] }, config_version: { type: 'integer' } }) }), {
            data: { status: 'ready', config_version: 6 },
          }),
        },
        '500': { description: 'Not ready: a dependency does not answer', content: json(ref('Error')) },
      },
    },
  },
  '/metrics': {
    get: {
      summary: 'Prometheus metrics of this instance',
      description: 'No credentials. Each instance counts only what it served; every metric is described in docs/metrics.md.',
      tags: ['Operations'],
      operationId: 'getMetrics',
      security: [],
      responses: {
        ...tooSlow,
        '200': {
          description: 'The Prometheus text exposition format',
          content: {
            'text/plain': {
              schema: str(),
              example:
                '# HELP switchyard_sse_clients Connected SSE clients by environment\n# TYPE switchyard_sse_clients gauge\nswitchyard_sse_clients{environment="production"} 3\n',
            },
          },
        },
      },
    },
  },
};
