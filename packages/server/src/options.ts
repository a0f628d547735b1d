import type { OidcOptions } from './auth/tokens';
import { DEFAULT_MAX_EVENT_VALUE } from './services/events/event-validation';
import { OptionError, parseSettings } from './option-specs';

/** Everything the server can be told, resolved once from flags and `SWITCHYARD_*` variables. */
export interface ServerOptions {
  port: number;
  host: string;
  /** SQLite file path (`:memory:` for throwaway servers); unused when `databaseUrl` is set. */
  dbPath: string;
  /** `postgres://…` or `postgresql://…`: the PostgreSQL store, for several instances. Absent: SQLite at `dbPath`. */
  databaseUrl: string | undefined;
  /** `redis://…`: config-change fan-out between instances and rate limits shared by them. */
  redisUrl: string | undefined;
  /**
   * With PostgreSQL or Redis: how often an instance compares the store's config version with
   * its own and catches up (the path that still works when Redis is down or absent).
   */
  configPollMs: number;
  demo: boolean;
  /**
   * The environment a request acts in when neither its key nor `?environment=` names one
   * (default `production`); created at start when it does not exist.
   */
  defaultEnvironment: string;
  /**
   * HS256 secrets, comma-separated, at least 32 bytes each; the first signs, all verify (rotate
   * by putting a new one first). Absent: a generated keyring, never kept in clear in the
   * database (see `masterKey`).
   */
  jwtSecret: string | undefined;
  /**
   * Encrypts secrets kept in the database (the generated JWT signing keys), at least 32 bytes.
   * Required with PostgreSQL unless `jwtSecret` is set; with SQLite, keys otherwise live in a
   * `<db>.keys.json` file (mode 0600) beside the database.
   */
  masterKey: string | undefined;
  /**
   * Encrypt personal data at rest under `masterKey`: users' emails (deterministically, so they
   * can still be looked up; stored lower-cased) and audit records' IP addresses and user agents.
   */
  encryptPii: boolean;
  jwtTtlSeconds: number;
  adminEmail: string;
  adminPassword: string | undefined;
  corsOrigins: string[];
  bodyLimitBytes: number;
  /**
   * Time a client has to send a whole request, headers and body (Node's `requestTimeout`): a
   * client trickling a body byte by byte cannot hold a connection and its buffers for minutes.
   * Streams are unaffected (their request ends with the headers).
   */
  requestTimeoutMs: number;
  /** Largest body of a bulk import (`POST /api/v1/import`), which carries many resources at once. */
  importBodyLimitBytes: number;
  logLevel: string;
  /** Requests per second per API key, with a burst of `apiRateBurst`. */
  apiRatePerSecond: number;
  apiRateBurst: number;
  /** Login attempts per minute per IP. */
  loginRatePerMinute: number;
  /**
   * Take the client address from the first `X-Forwarded-For` hop (behind a reverse proxy).
   * Off by default: a client could otherwise forge it to dodge login rate limits and audit IPs.
   */
  trustProxy: boolean;
  /** Events with a timestamp older than this many days (fractions allowed) are deleted. */
  eventRetentionDays: number;
  /** How often the retention job runs on the leader. */
  retentionIntervalMs: number;
  /** Events one retention transaction deletes at most; ingestion goes on between transactions. */
  retentionChunk: number;
  /** Largest |value| an event may carry; a batch with a larger one is refused whole (400). */
  maxEventValue: number;
  /** How often the safety monitor checks guardrails of running experiments. */
  safetyIntervalMs: number;
  /** How often the rollout monitor checks running guarded rollouts (each stage's hold is measured against it). */
  rolloutIntervalMs: number;
  /** Webhooks may target private, loopback and link-local addresses (`SWITCHYARD_WEBHOOK_ALLOW_PRIVATE=1`; off: SSRF). */
  webhookAllowPrivate: boolean;
  /** Webhook retries: the first delay, doubling per attempt up to `webhookRetryMaxDelayMs`, with jitter. */
  webhookRetryBaseMs: number;
  webhookRetryMaxDelayMs: number;
  /** A delivery is retried for this long after its event (at least a day by default). */
  webhookRetryWindowMs: number;
  /** Bound on one delivery attempt. */
  webhookTimeoutMs: number;
  /** How often the webhook worker looks for due deliveries. */
  webhookPollMs: number;
  /** A webhook is disabled after this many failed attempts in a row that span at least `webhookDisableAfterMs`. */
  webhookDisableAfterFailures: number;
  webhookDisableAfterMs: number;
  heartbeatMs: number;
  /** An SSE client with more unsent bytes than this is dropped (it reconnects and resumes). */
  sseMaxBufferBytes: number;
  /** Patches kept in memory for `Last-Event-ID` replay. */
  sseReplayCapacity: number;
  oidc: OidcOptions | undefined;
  docsBaseUrl: string;
  /** Print first-start credentials (admin password, SDK keys) to stdout. */
  printCredentials: boolean;
  /** PostgreSQL connections per instance. */
  pgPoolMax: number;
  /** An idle PostgreSQL connection is closed after this long. */
  pgIdleTimeoutMs: number;
  /** A PostgreSQL connection is replaced after this many seconds (0 = never). */
  pgMaxLifetimeSeconds: number;
  /** Opening, or waiting for, a PostgreSQL connection fails after this long (a `503`). */
  pgConnectTimeoutMs: number;
  /** PostgreSQL cancels a statement running longer; the server gives up 2 s after that (a `503`). */
  pgStatementTimeoutMs: number;
  /** How often instances sharing PostgreSQL try to take the background-jobs lease. */
  leaderCheckMs: number;
  /** SQLite: the results aggregator's share of the writer thread while events keep arriving (0 < share <= 1). */
  aggregatorShare: number;
  /** How long authentication trusts a cached API key or user (0 = not cached). */
  credentialCacheTtlMs: number;
  /** The longest a request waits for Redis before the rate limit is decided locally and the circuit opens. */
  redisBudgetMs: number;
  /** New units one client key may introduce per minute (0 = no limit). */
  newUnitsPerMinute: number;
  /** Largest flag, segment or experiment in a config document, in JSON bytes. */
  maxFlagBytes: number;
  /** Largest config document of one environment, in JSON bytes. */
  maxConfigBytes: number;
}

/**
 * Resolves options: explicit values win, then flags (`--port`), then environment variables,
 * then defaults. Flags and variables are parsed by one code path and a bad value throws an
 * `OptionError` naming its source, before anything is opened.
 *
 * @example
 * ```ts
 * const options = resolveOptions({ port: 0, dbPath: ':memory:' }, process.env);
 * ```
 */
export function resolveOptions(
  explicit: Partial<ServerOptions> = {},
  env: Record<string, string | undefined> = process.env,
  flags: Record<string, string | boolean> = {},
): ServerOptions {
  const v = parseSettings(flags, env) as Partial<Record<string, unknown>> & Partial<ServerOptions>;
  const jwksUrl = v['jwksUrl'] as string | undefined;
  const fromSettings: ServerOptions = {
    port: v.port ?? 8787,
    host: v.host ?? '127.0.0.1',
    dbPath: v.dbPath ?? '.switchyard/switchyard.db',
    databaseUrl: v.databaseUrl,
    redisUrl: v.redisUrl,
    configPollMs: v.configPollMs ?? 5000,
    demo: v.demo ?? false,
    defaultEnvironment: v.defaultEnvironment ?? 'production',
    jwtSecret: v.jwtSecret,
    masterKey: v.masterKey,
    encryptPii: v.encryptPii ?? false,
    jwtTtlSeconds: v.jwtTtlSeconds ?? 3600,
    adminEmail: v.adminEmail ?? 'admin@switchyard.local',
    adminPassword: v.adminPassword,
    corsOrigins: v.corsOrigins ?? ['*'],
    bodyLimitBytes: v.bodyLimitBytes ?? 1024 * 1024,
    requestTimeoutMs: v.requestTimeoutMs ?? 30_000,
    importBodyLimitBytes: v.importBodyLimitBytes ?? 64 * 1024 * 1024,
    logLevel: v.logLevel ?? 'info',
    apiRatePerSecond: v.apiRatePerSecond ?? 1000,
    apiRateBurst: v.apiRateBurst ?? 2000,
    loginRatePerMinute: v.loginRatePerMinute ?? 10,
    trustProxy: v.trustProxy ?? false,
    eventRetentionDays: v.eventRetentionDays ?? 90,
    retentionIntervalMs: v.retentionIntervalMs ?? 60 * 60 * 1000,
    retentionChunk: v.retentionChunk ?? 10_000,
    maxEventValue: v.maxEventValue ?? DEFAULT_MAX_EVENT_VALUE,
    safetyIntervalMs: v.safetyIntervalMs ?? 60_000,
    rolloutIntervalMs: v.rolloutIntervalMs ?? 60_000,
    webhookAllowPrivate: v.webhookAllowPrivate ?? false,
    webhookRetryBaseMs: v.webhookRetryBaseMs ?? 5000,
    webhookRetryMaxDelayMs: v.webhookRetryMaxDelayMs ?? 60 * 60 * 1000,
    webhookRetryWindowMs: v.webhookRetryWindowMs ?? 24 * 60 * 60 * 1000,
    webhookTimeoutMs: v.webhookTimeoutMs ?? 10_000,
    webhookPollMs: v.webhookPollMs ?? 1000,
    webhookDisableAfterFailures: v.webhookDisableAfterFailures ?? 20,
    webhookDisableAfterMs: v.webhookDisableAfterMs ?? 5 * 24 * 60 * 60 * 1000,
    heartbeatMs: v.heartbeatMs ?? 15_000,
    sseMaxBufferBytes: v.sseMaxBufferBytes ?? 1024 * 1024,
    sseReplayCapacity: v.sseReplayCapacity ?? 1024,
    oidc:
      jwksUrl === undefined
        ? undefined
        : {
            jwksUrl,
            ...(v['oidcIssuer'] !== undefined ? { issuer: v['oidcIssuer'] as string } : {}),
            ...(v['oidcAudience'] !== undefined ? { audience: v['oidcAudience'] as string } : {}),
            roleClaim: (v['oidcRoleClaim'] as string | undefined) ?? 'role',
            roleMap: (v['oidcRoleMap'] as OidcOptions['roleMap'] | undefined) ?? {},
          },
    docsBaseUrl: v.docsBaseUrl ?? 'https://github.com/switchyard-dev/switchyard/blob/main/docs',
    printCredentials: true,
    pgPoolMax: v.pgPoolMax ?? 10,
    pgIdleTimeoutMs: v.pgIdleTimeoutMs ?? 10_000,
    pgMaxLifetimeSeconds: v.pgMaxLifetimeSeconds ?? 3600,
    pgConnectTimeoutMs: v.pgConnectTimeoutMs ?? 5000,
    pgStatementTimeoutMs: v.pgStatementTimeoutMs ?? 30_000,
    leaderCheckMs: v.leaderCheckMs ?? 1000,
    aggregatorShare: v.aggregatorShare ?? 0.04,
    credentialCacheTtlMs: v.credentialCacheTtlMs ?? 30_000,
    redisBudgetMs: v.redisBudgetMs ?? 100,
    newUnitsPerMinute: v.newUnitsPerMinute ?? 1000,
    maxFlagBytes: v.maxFlagBytes ?? 256 * 1024,
    maxConfigBytes: v.maxConfigBytes ?? 16 * 1024 * 1024,
  };
  const out = { ...fromSettings };
  for (const [k, val] of Object.entries(explicit)) if (val !== undefined) (out as unknown as Record<string, unknown>)[k] = val;
  if (out.encryptPii && (out.masterKey === undefined || out.masterKey === ''))
    throw new OptionError('SWITCHYARD_ENCRYPT_PII: needs SWITCHYARD_MASTER_KEY, the key personal data is encrypted under');
  return out;
}
