import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { ConfigPatch } from '@switchyard/core';
import type { Actor } from '../auth/actor';
import type { TokenService } from '../auth/tokens';
import type { AppEnv } from '../http/app-env';
import type { ServerMetrics } from '../middleware/metrics';
import type { RateLimiter } from '../middleware/rate-limit';
import type { ServerOptions } from '../options';
import type { AuditRecord, Store, WriteOp } from '../store/types';
import type { ConfigState } from './config-state';

/** Everything a route or job needs, built once per server. */
export interface ServerContext {
  options: ServerOptions;
  store: Store;
  logger: Logger;
  tokens: TokenService;
  config: ConfigState;
  metrics: ServerMetrics;
  apiLimiter: RateLimiter;
  loginLimiter: RateLimiter;
  /** Injectable for tests of scheduled behaviour; everything else uses it too. */
  now: () => number;
}

/** Who and where a mutation came from, for its audit record. */
export interface RequestOrigin {
  actor: Actor | null;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

/** The origin of an HTTP request. */
export function originOf(c: Context<AppEnv>): RequestOrigin {
  const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
  let ip: string | null = forwarded ?? null;
  if (ip === null) {
    const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
    ip = env?.incoming?.socket?.remoteAddress ?? null;
  }
  return { actor: c.get('actor') ?? null, requestId: c.get('requestId') ?? null, ip, userAgent: c.req.header('user-agent') ?? null };
}

/** The system itself (scheduler, safety monitor, first start). */
export const SYSTEM_ORIGIN: RequestOrigin = { actor: null, requestId: null, ip: null, userAgent: null };

/**
 * Commits one mutation — rows, audit record and config patch in one store transaction — and
 * then advances this instance's live config, which fans the patch out to SDK streams.
 */
export async function commitMutation(
  ctx: ServerContext,
  origin: RequestOrigin,
  change: {
    writes: WriteOp[];
    patch?: Omit<ConfigPatch, 'version'>;
    audit: Pick<AuditRecord, 'action' | 'resourceType' | 'resourceId' | 'resourceKey' | 'before' | 'after'>;
  },
): Promise<number | null> {
  const a = origin.actor;
  const audit: AuditRecord = {
    ...change.audit,
    at: new Date(ctx.now()).toISOString(),
    actorType: a === null ? 'system' : a.type,
    actorId: a?.id ?? null,
    actorLabel: a?.label ?? 'system',
    requestId: origin.requestId,
    ip: origin.ip,
    userAgent: origin.userAgent,
  };
  const work = change.patch === undefined ? { writes: change.writes, audit } : { writes: change.writes, audit, configPatch: change.patch };
  const { version } = await ctx.store.commit(work);
  if (version !== null && change.patch !== undefined) await ctx.config.apply({ ...change.patch, version });
  return version;
}
