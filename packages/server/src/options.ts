import type { OidcOptions } from './auth/tokens';

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
  /** HS256 secret; generated and persisted in the store when absent. */
  jwtSecret: string | undefined;
  jwtTtlSeconds: number;
  adminEmail: string;
  adminPassword: string | undefined;
  corsOrigins: string[];
  bodyLimitBytes: number;
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
  eventRetentionDays: number;
  /** How often the safety monitor checks guardrails of running experiments. */
  safetyIntervalMs: number;
  heartbeatMs: number;
  /** An SSE client with more unsent bytes than this is dropped (it reconnects and resumes). */
  sseMaxBufferBytes: number;
  /** Patches kept in memory for `Last-Event-ID` replay. */
  sseReplayCapacity: number;
  oidc: OidcOptions | undefined;
  docsBaseUrl: string;
  /** Print first-start credentials (admin password, SDK keys) to stdout. */
  printCredentials: boolean;
}

function num(v: string | undefined, fallback: number): number {
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`expected a number, got '${v}'`);
  return n;
}

function parseRoleMap(v: string | undefined): OidcOptions['roleMap'] {
  const out: OidcOptions['roleMap'] = {};
  for (const pair of (v ?? '').split(',')) {
    const [claim, role] = pair.split(':').map((s) => s.trim());
    if (claim && (role === 'VIEWER' || role === 'EXPERIMENTER' || role === 'ADMIN')) out[claim] = role;
  }
  return out;
}

/**
 * Resolves options: explicit values win, then environment variables, then defaults.
 *
 * @example
 * ```ts
 * const options = resolveOptions({ port: 0, dbPath: ':memory:' }, process.env);
 * ```
 */
export function resolveOptions(
  explicit: Partial<ServerOptions> = {},
  env: Record<string, string | undefined> = process.env,
): ServerOptions {
  const jwks = env.SWITCHYARD_JWKS_URL;
  const fromEnv: ServerOptions = {
    port: num(env.SWITCHYARD_PORT ?? env.PORT, 8787),
    host: env.SWITCHYARD_HOST ?? '127.0.0.1',
    dbPath: env.SWITCHYARD_DB ?? '.switchyard/switchyard.db',
    databaseUrl: env.SWITCHYARD_DATABASE_URL || undefined,
    redisUrl: env.SWITCHYARD_REDIS_URL || undefined,
    configPollMs: num(env.SWITCHYARD_CONFIG_POLL_MS, 5000),
    demo: env.SWITCHYARD_DEMO === '1' || env.SWITCHYARD_DEMO === 'true',
    jwtSecret: env.SWITCHYARD_JWT_SECRET,
    jwtTtlSeconds: num(env.SWITCHYARD_JWT_TTL_SECONDS, 3600),
    adminEmail: env.SWITCHYARD_ADMIN_EMAIL ?? 'admin@switchyard.local',
    adminPassword: env.SWITCHYARD_ADMIN_PASSWORD,
    corsOrigins: (env.SWITCHYARD_CORS_ORIGINS ?? '*')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    bodyLimitBytes: num(env.SWITCHYARD_BODY_LIMIT_BYTES, 1024 * 1024),
    logLevel: env.SWITCHYARD_LOG_LEVEL ?? 'info',
    apiRatePerSecond: num(env.SWITCHYARD_API_RATE_PER_SECOND, 1000),
    apiRateBurst: num(env.SWITCHYARD_API_RATE_BURST, 2000),
    loginRatePerMinute: num(env.SWITCHYARD_LOGIN_RATE_PER_MINUTE, 10),
    trustProxy: env.SWITCHYARD_TRUST_PROXY === '1' || env.SWITCHYARD_TRUST_PROXY === 'true',
    eventRetentionDays: num(env.SWITCHYARD_EVENT_RETENTION_DAYS, 90),
    safetyIntervalMs: num(env.SWITCHYARD_SAFETY_INTERVAL_MS, 60_000),
    heartbeatMs: num(env.SWITCHYARD_HEARTBEAT_MS, 15_000),
    sseMaxBufferBytes: num(env.SWITCHYARD_SSE_MAX_BUFFER_BYTES, 1024 * 1024),
    sseReplayCapacity: num(env.SWITCHYARD_SSE_REPLAY_CAPACITY, 1024),
    oidc: jwks
      ? {
          jwksUrl: jwks,
          ...(env.SWITCHYARD_OIDC_ISSUER ? { issuer: env.SWITCHYARD_OIDC_ISSUER } : {}),
          ...(env.SWITCHYARD_OIDC_AUDIENCE ? { audience: env.SWITCHYARD_OIDC_AUDIENCE } : {}),
          roleClaim: env.SWITCHYARD_OIDC_ROLE_CLAIM ?? 'role',
          roleMap: parseRoleMap(env.SWITCHYARD_OIDC_ROLE_MAP),
        }
      : undefined,
    docsBaseUrl: env.SWITCHYARD_DOCS_URL ?? 'https://github.com/switchyard-dev/switchyard/blob/main/docs',
    printCredentials: true,
  };
  const out = { ...fromEnv };
  for (const [k, v] of Object.entries(explicit)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}
