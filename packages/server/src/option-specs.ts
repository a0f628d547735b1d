import type { OidcOptions } from './auth/tokens';
import { LIMIT_OPTION_SPECS } from './limit-option-specs';
import { OPERATIONS_OPTION_SPECS } from './operations-option-specs';

/**
 * A configuration value that cannot be used. The message names where the value came from
 * (`--port`, `SWITCHYARD_PORT`) so that the one line an operator sees points at the fix.
 */
export class OptionError extends Error {
  override readonly name = 'OptionError';
}

/** Turns the text of one flag or variable into its value; `source` is the flag or variable name. */
export type OptionParser<T> = (raw: string, source: string) => T;

/** One setting: its flag (absent for secrets, which stay off the command line and out of `ps`), its variables and its parser. */
export interface OptionSpec {
  /** The `ServerOptions` field it sets. */
  key: string;
  /** The long flag without dashes, e.g. `port` for `--port`; `null` for environment-only secrets. */
  flag: string | null;
  /** Environment variables, the first one wins. */
  env: readonly string[];
  /** A placeholder for help, e.g. `<port>`; `null` for a boolean switch. */
  value: string | null;
  /** The default as help shows it. */
  defaultText: string;
  help: string;
  parse: OptionParser<unknown>;
}

const fail = (source: string, raw: string, what: string): never => {
  throw new OptionError(`${source}: '${raw}' ${what}`);
};

/**
 * The one way settings read numbers: the value a decimal text spells (`12`, `0.5`, `.25`, `5e-2`;
 * surrounding spaces ignored), NaN for anything else (empty, hex, `Infinity`, units).
 *
 * @example
 * decimalOf(' 0.04 '); // 0.04
 * decimalOf('0x10'); // NaN
 */
export function decimalOf(raw: string): number {
  const t = raw.trim();
  return /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
}

/**
 * A whole number spelled with digits only (no sign, fraction or exponent), NaN for anything else.
 *
 * @example
 * wholeNumberOf('8080'); // 8080
 * wholeNumberOf('1e3'); // NaN
 */
export function wholeNumberOf(raw: string): number {
  const t = raw.trim();
  return /^\d+$/.test(t) ? Number(t) : NaN;
}

/** A TCP port; 0 asks the system for any free port (tests and throwaway servers). */
export const parsePort: OptionParser<number> = (raw, source) => {
  const n = wholeNumberOf(raw);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : fail(source, raw, 'is not a port (1-65535, or 0 for any free port)');
};

/** A whole number of at least 1. */
export const parsePositiveInt: OptionParser<number> = (raw, source) => {
  const n = wholeNumberOf(raw);
  return Number.isSafeInteger(n) && n >= 1 ? n : fail(source, raw, 'is not a whole number of at least 1');
};

/** A number greater than 0 (rates may be fractional). */
export const parsePositiveNumber: OptionParser<number> = (raw, source) => {
  const n = decimalOf(raw);
  return n > 0 && Number.isFinite(n) ? n : fail(source, raw, 'is not a number greater than 0');
};

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off', ''];

/** `1/true/yes/on` or `0/false/no/off`; anything else is a mistake, not "false". */
export const parseBoolean: OptionParser<boolean> = (raw, source) => {
  const v = raw.trim().toLowerCase();
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  return fail(source, raw, 'is not a boolean (use 1/true/yes/on or 0/false/no/off)');
};

const nonEmpty: OptionParser<string> = (raw, source) => (raw.trim() === '' ? fail(source, raw, 'is empty') : raw);
const environmentKey: OptionParser<string> = (raw, source) =>
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(raw) ? raw : fail(source, raw, 'is not an environment key (letters, digits, ., _, -)');

/** Never echoes the secret itself into the error message. */
const longSecret: OptionParser<string> = (raw, source) => {
  if (Buffer.byteLength(raw, 'utf8') < 32)
    throw new OptionError(`${source}: must be at least 32 bytes (got ${Buffer.byteLength(raw, 'utf8')})`);
  return raw;
};

const secretList: OptionParser<string> = (raw, source) => {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new OptionError(`${source}: is empty or has an empty entry`);
  for (const p of parts) longSecret(p, source);
  return raw;
};

const urlWith =
  (schemes: string[], what: string): OptionParser<string> =>
  (raw, source) => {
    const url = URL.canParse(raw) ? new URL(raw) : null;
    return url !== null && schemes.includes(url.protocol) ? raw : fail(source, raw, `is not ${what}`);
  };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const logLevel: OptionParser<string> = (raw, source) =>
  LOG_LEVELS.includes(raw) ? raw : fail(source, raw, `is not a log level (${LOG_LEVELS.join(', ')})`);

const email: OptionParser<string> = (raw, source) => (/^[^@\s]+@[^@\s]+$/.test(raw) ? raw : fail(source, raw, 'is not an email address'));

const password: OptionParser<string> = (raw, source) => {
  // The value itself is a secret: the message must not echo it.
  if (raw.length < 8) throw new OptionError(`${source}: the password must be at least 8 characters`);
  return raw;
};

const list: OptionParser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const ROLES = ['VIEWER', 'EXPERIMENTER', 'ADMIN'];

/** `claim-value:ROLE,…`; an unknown role is an error rather than a silently dropped pair. */
export const parseRoleMap: OptionParser<OidcOptions['roleMap']> = (raw, source) => {
  const out: OidcOptions['roleMap'] = {};
  for (const pair of list(raw, source)) {
    const [claim, role] = pair.split(':').map((s) => s.trim());
    if (!claim || role === undefined || !ROLES.includes(role)) fail(source, pair, `is not claim:ROLE with ROLE one of ${ROLES.join(', ')}`);
    out[claim as string] = role as OidcOptions['roleMap'][string];
  }
  return out;
};

const spec = (
  key: string,
  flag: string | null,
  env: readonly string[],
  value: string | null,
  defaultText: string,
  help: string,
  parse: OptionParser<unknown>,
): OptionSpec => ({ key, flag, env, value, defaultText, help, parse });

/** Every setting of `switchyard serve`, in the order help lists them. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  spec('port', 'port', ['SWITCHYARD_PORT', 'PORT'], '<port>', '8787', 'TCP port to listen on (0 = any free port).', parsePort),
  spec('host', 'host', ['SWITCHYARD_HOST'], '<host>', '127.0.0.1', 'Interface to bind; 0.0.0.0 or :: to accept remote clients.', nonEmpty),
  spec('dbPath', 'db', ['SWITCHYARD_DB'], '<file>', '.switchyard/switchyard.db', 'SQLite database file (created if missing).', nonEmpty),
  spec(
    'databaseUrl',
    'database-url',
    ['SWITCHYARD_DATABASE_URL'],
    '<url>',
    'none (SQLite)',
    'postgres:// URL: PostgreSQL instead of SQLite, for several instances.',
    urlWith(['postgres:', 'postgresql:'], 'a postgres:// or postgresql:// URL (use --db for a SQLite file)'),
  ),
  spec(
    'redisUrl',
    'redis-url',
    ['SWITCHYARD_REDIS_URL'],
    '<url>',
    'none',
    'redis:// URL: config fan-out between instances and shared rate limits.',
    urlWith(['redis:', 'rediss:'], 'a redis:// or rediss:// URL'),
  ),
  spec('demo', 'demo', ['SWITCHYARD_DEMO'], null, 'off', 'Seed demo flags, segments and experiments on start.', parseBoolean),
  spec(
    'defaultEnvironment',
    'default-environment',
    ['SWITCHYARD_DEFAULT_ENVIRONMENT'],
    '<key>',
    'production',
    'Environment of requests whose key or ?environment= names none (created if missing).',
    environmentKey,
  ),
  spec('logLevel', 'log-level', ['SWITCHYARD_LOG_LEVEL'], '<level>', 'info', `Log level: ${LOG_LEVELS.join(', ')}.`, logLevel),
  spec('adminEmail', 'admin-email', ['SWITCHYARD_ADMIN_EMAIL'], '<email>', 'admin@switchyard.local', 'Email of the first admin.', email),
  spec(
    'adminPassword',
    null,
    ['SWITCHYARD_ADMIN_PASSWORD'],
    '<password>',
    'generated',
    'Password of the first admin (first start only; see `switchyard admin reset-password`).',
    password,
  ),
  spec(
    'jwtSecret',
    null,
    ['SWITCHYARD_JWT_SECRET'],
    '<secrets>',
    'generated, never kept in clear',
    'HS256 secrets for login tokens, comma-separated, each at least 32 bytes; the first signs, all verify.',
    secretList,
  ),
  spec(
    'masterKey',
    null,
    ['SWITCHYARD_MASTER_KEY'],
    '<key>',
    'none',
    'At least 32 bytes: encrypts the secrets kept in the database (required with PostgreSQL unless SWITCHYARD_JWT_SECRET is set).',
    longSecret,
  ),
  spec('jwtTtlSeconds', 'jwt-ttl-seconds', ['SWITCHYARD_JWT_TTL_SECONDS'], '<s>', '3600', 'Lifetime of login tokens.', parsePositiveInt),
  spec('corsOrigins', 'cors-origins', ['SWITCHYARD_CORS_ORIGINS'], '<list>', '*', 'Comma-separated allowed browser origins.', list),
  spec('bodyLimitBytes', 'body-limit-bytes', ['SWITCHYARD_BODY_LIMIT_BYTES'], '<n>', '1048576', 'Largest request body.', parsePositiveInt),
  spec(
    'requestTimeoutMs',
    'request-timeout-ms',
    ['SWITCHYARD_REQUEST_TIMEOUT_MS'],
    '<ms>',
    '30000',
    'Time a client has to send a whole request (headers and body); a slower one is cut off with 408.',
    parsePositiveInt,
  ),
  spec(
    'importBodyLimitBytes',
    'import-body-limit-bytes',
    ['SWITCHYARD_IMPORT_BODY_LIMIT_BYTES'],
    '<n>',
    '67108864',
    'Largest body of a bulk import (POST /api/v1/import).',
    parsePositiveInt,
  ),
  spec(
    'apiRatePerSecond',
    'api-rate-per-second',
    ['SWITCHYARD_API_RATE_PER_SECOND'],
    '<n>',
    '1000',
    'Requests/s per API key.',
    parsePositiveNumber,
  ),
  spec('apiRateBurst', 'api-rate-burst', ['SWITCHYARD_API_RATE_BURST'], '<n>', '2000', 'Burst per API key.', parsePositiveInt),
  spec(
    'loginRatePerMinute',
    'login-rate-per-minute',
    ['SWITCHYARD_LOGIN_RATE_PER_MINUTE'],
    '<n>',
    '10',
    'Login attempts per minute per client address.',
    parsePositiveNumber,
  ),
  spec(
    'encryptPii',
    'encrypt-pii',
    ['SWITCHYARD_ENCRYPT_PII'],
    null,
    'off',
    "Encrypt users' emails and audit IPs and user agents at rest (needs SWITCHYARD_MASTER_KEY).",
    parseBoolean,
  ),
  spec('trustProxy', 'trust-proxy', ['SWITCHYARD_TRUST_PROXY'], null, 'off', 'Take the client address from X-Forwarded-For.', parseBoolean),
  spec(
    'eventRetentionDays',
    'event-retention-days',
    ['SWITCHYARD_EVENT_RETENTION_DAYS'],
    '<days>',
    '90',
    'Events older than this are deleted.',
    parsePositiveNumber,
  ),
  spec(
    'maxEventValue',
    'max-event-value',
    ['SWITCHYARD_MAX_EVENT_VALUE'],
    '<n>',
    '1000000000',
    'Largest |value| an event may carry; a batch with a larger one is refused (400).',
    parsePositiveNumber,
  ),
  spec(
    'configPollMs',
    'config-poll-ms',
    ['SWITCHYARD_CONFIG_POLL_MS'],
    '<ms>',
    '5000',
    'Config catch-up interval (several instances).',
    parsePositiveInt,
  ),
  spec(
    'safetyIntervalMs',
    'safety-interval-ms',
    ['SWITCHYARD_SAFETY_INTERVAL_MS'],
    '<ms>',
    '60000',
    'Guardrail check interval.',
    parsePositiveInt,
  ),
  spec(
    'rolloutIntervalMs',
    'rollout-interval-ms',
    ['SWITCHYARD_ROLLOUT_INTERVAL_MS'],
    '<ms>',
    '60000',
    'Guarded rollout stage check interval.',
    parsePositiveInt,
  ),
  spec(
    'webhookAllowPrivate',
    'webhook-allow-private',
    ['SWITCHYARD_WEBHOOK_ALLOW_PRIVATE'],
    null,
    'off',
    'Let webhooks target private, loopback and link-local addresses.',
    parseBoolean,
  ),
  spec(
    'webhookRetryBaseMs',
    'webhook-retry-base-ms',
    ['SWITCHYARD_WEBHOOK_RETRY_BASE_MS'],
    '<ms>',
    '5000',
    'First webhook retry delay (doubles per attempt, with jitter).',
    parsePositiveInt,
  ),
  spec(
    'webhookTimeoutMs',
    'webhook-timeout-ms',
    ['SWITCHYARD_WEBHOOK_TIMEOUT_MS'],
    '<ms>',
    '10000',
    'Time limit of one webhook delivery attempt.',
    parsePositiveInt,
  ),
  spec('heartbeatMs', 'heartbeat-ms', ['SWITCHYARD_HEARTBEAT_MS'], '<ms>', '15000', 'SSE heartbeat interval.', parsePositiveInt),
  spec(
    'sseMaxBufferBytes',
    'sse-max-buffer-bytes',
    ['SWITCHYARD_SSE_MAX_BUFFER_BYTES'],
    '<n>',
    '1048576',
    'Unsent bytes before a slow SSE client is dropped.',
    parsePositiveInt,
  ),
  spec(
    'sseReplayCapacity',
    'sse-replay-capacity',
    ['SWITCHYARD_SSE_REPLAY_CAPACITY'],
    '<n>',
    '1024',
    'Patches kept for Last-Event-ID replay.',
    parsePositiveInt,
  ),
  spec(
    'jwksUrl',
    'jwks-url',
    ['SWITCHYARD_JWKS_URL'],
    '<url>',
    'none',
    'Trust an OIDC issuer: its JWKS URL.',
    urlWith(['https:', 'http:'], 'an http(s) URL'),
  ),
  spec('oidcIssuer', 'oidc-issuer', ['SWITCHYARD_OIDC_ISSUER'], '<iss>', 'any', 'Required `iss` of OIDC tokens.', nonEmpty),
  spec('oidcAudience', 'oidc-audience', ['SWITCHYARD_OIDC_AUDIENCE'], '<aud>', 'any', 'Required `aud` of OIDC tokens.', nonEmpty),
  spec('oidcRoleClaim', 'oidc-role-claim', ['SWITCHYARD_OIDC_ROLE_CLAIM'], '<claim>', 'role', 'Token claim mapped to a role.', nonEmpty),
  spec(
    'oidcRoleMap',
    'oidc-role-map',
    ['SWITCHYARD_OIDC_ROLE_MAP'],
    '<map>',
    'none',
    'claim-value:ROLE pairs, comma-separated.',
    parseRoleMap,
  ),
  spec(
    'docsBaseUrl',
    'docs-url',
    ['SWITCHYARD_DOCS_URL'],
    '<url>',
    'the project docs',
    'Base of documentation links in errors.',
    urlWith(['https:', 'http:'], 'an http(s) URL'),
  ),
  ...OPERATIONS_OPTION_SPECS,
  ...LIMIT_OPTION_SPECS,
];

/**
 * Parses every setting given by flag or environment variable — the one path both take — and
 * returns the values by `ServerOptions` field. A flag wins over its variable.
 *
 * @example
 * ```ts
 * parseSettings({ port: '8080' }, { SWITCHYARD_DEMO: '1' }); // { port: 8080, demo: true }
 * ```
 */
export function parseSettings(flags: Record<string, string | boolean>, env: Record<string, string | undefined>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of OPTION_SPECS) {
    const fromFlag = s.flag === null ? undefined : flags[s.flag];
    if (fromFlag !== undefined) {
      out[s.key] = typeof fromFlag === 'boolean' ? fromFlag : s.parse(fromFlag, `--${s.flag}`);
      continue;
    }
    const name = s.env.find((n) => env[n] !== undefined && env[n] !== '');
    if (name !== undefined) out[s.key] = s.parse(env[name] as string, name);
  }
  return out;
}
