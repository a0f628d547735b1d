import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { ConfigPatch } from '@switchyard/core';
import type { Actor } from '../auth/actor';
import type { LoginGuard } from '../auth/login-guard';
import type { TokenService } from '../auth/tokens';
import type { AppEnv } from '../http/app-env';
import type { ServerMetrics } from '../middleware/metrics';
import type { RateLimiter } from '../middleware/rate-limit';
import type { ServerOptions } from '../options';
import type { AuditRecord, Store, UnitOfWork, WriteOp } from '../store/types';
import type { CredentialCache } from '../auth/credential-cache';
import type { KeyUsage } from '../auth/key-usage';
import type { JobRunner } from './jobs/job-runner';
import type { DependencyCheck } from './infra/readiness';
import type { ConfigPipeline } from './config/config-pipeline';
import type { ConfigState } from './config/config-state';
import type { EnvironmentRuntimes } from './config/environment-runtimes';
import type { EventAdmission } from './events/event-admission';
import type { EventWriter } from './events/event-writer';
import type { StreamHub } from './config/stream-hub';
import { checkConfigSize } from './config/config-size';
import { eventsFromAudit, toOutbox, type WebhookEventInput } from './webhooks/webhook-events';

/** Everything a route or job needs, built once per server. */
export interface ServerContext {
  options: ServerOptions;
  store: Store;
  logger: Logger;
  tokens: TokenService;
  /** Every environment's live config and streams. */
  environments: EnvironmentRuntimes;
  /** The default environment's live config (what requests without an environment act on). */
  readonly config: ConfigState;
  /** The default environment's streams. */
  readonly hub: StreamHub;
  events: EventWriter;
  metrics: ServerMetrics;
  apiLimiter: RateLimiter;
  loginLimiter: RateLimiter;
  /** Requests per API key per hour, written to the audit log once per key and hour. */
  keyUsage?: KeyUsage;
  /** Per-key limits on events from client keys (metric allowlists, new units per minute); absent: none. */
  eventAdmission?: EventAdmission;
  /** Per-account lockout after repeated failed logins. */
  loginGuard: LoginGuard;
  /**
   * The background jobs of this instance: a job registered here runs only while this instance
   * is the leader, so exactly one instance runs it when several share PostgreSQL.
   */
  jobs: JobRunner;
  /** API keys and users as authentication reads them: cached briefly, served stale while the database is down. */
  credentials: CredentialCache;
  /** What `/ready` checks, by dependency name (`database`, and `redis` when configured). */
  dependencies?: Record<string, DependencyCheck>;
  /** Injectable for tests of scheduled behaviour; everything else uses it too. */
  now: () => number;
  /**
   * The one write path for changes instances hold in memory: commits, config fan-out and apply,
   * and the signals that reach the scheduler, the credential cache and the webhook worker here
   * and on every other instance.
   */
  readonly pipeline: ConfigPipeline;
}

/** Who and where a mutation came from, for its audit record. */
export interface RequestOrigin {
  actor: Actor | null;
  /** The environment the request acts in. */
  environment: string;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
  /**
   * The request's raw `If-Match` header: a write of one stored resource applies only to the
   * version it names (see `onLatestVersion`). Absent for the system's own changes.
   */
  ifMatch?: string | null;
}

/**
 * The client's address: the socket's peer, or the first `X-Forwarded-For` hop only when the
 * server is told it sits behind a proxy (otherwise anyone could forge it).
 */
export function clientIpOf(c: Context<AppEnv>, trustProxy: boolean): string | null {
  const forwarded = trustProxy ? c.req.header('x-forwarded-for')?.split(',')[0]?.trim() : undefined;
  if (forwarded !== undefined && forwarded !== '') return forwarded;
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

/** The origin of an HTTP request. */
export function originOf(c: Context<AppEnv>): RequestOrigin {
  const ip = c.get('clientIp') ?? clientIpOf(c, false);
  return {
    actor: c.get('actor') ?? null,
    environment: c.get('environment') ?? 'production',
    requestId: c.get('requestId') ?? null,
    ip,
    userAgent: c.req.header('user-agent') ?? null,
    ifMatch: c.req.header('if-match') ?? null,
  };
}

/** The system itself (scheduler, safety monitor, first start), acting in `environment`. */
export const systemOrigin = (environment: string): RequestOrigin => ({
  actor: null,
  environment,
  requestId: null,
  ip: null,
  userAgent: null,
});

/** The system itself in the default environment of a store made before environments (`production`). */
export const SYSTEM_ORIGIN: RequestOrigin = systemOrigin('production');

/** What a service says about a change for its audit record; who, when and from where are added. */
export type AuditInput = Pick<AuditRecord, 'action' | 'resourceType' | 'resourceId' | 'resourceKey' | 'before' | 'after' | 'environment'>;

/**
 * Commits one mutation — rows, audit record, webhook outbox and each environment's config patch
 * in one store transaction — through the config pipeline, which resolves once this instance's
 * live config of each environment has the change (and so have that environment's SDK streams).
 */
export async function commitMutation(
  ctx: ServerContext,
  origin: RequestOrigin,
  change: {
    writes: WriteOp[];
    /** Per environment. */
    patches?: Record<string, Omit<ConfigPatch, 'version'>>;
    /** One record, or one per resource of a bulk change. */
    audit: AuditInput | AuditInput[];
    /** See {@link UnitOfWork.keepAnAdmin}. */
    keepAnAdmin?: boolean;
    /** Webhook events beyond those derived from the audit record (flag and experiment changes); see `emit`. */
    events?: WebhookEventInput[];
    /**
     * Changes announced by webhook as if audited (`flag.updated` of a rollout's change to its
     * flag) whose audit record is `audit`'s, not one of their own.
     */
    announced?: AuditInput[];
  },
): Promise<Record<string, number>> {
  // Before anything is written: a config too large for SDKs and streams is refused whole.
  if (change.patches !== undefined) await checkConfigSize(ctx, change.patches);
  const a = origin.actor;
  const at = new Date(ctx.now()).toISOString();
  const record = (input: AuditInput): AuditRecord => ({
    ...input,
    environment: input.environment ?? null,
    at,
    actorType: a === null ? 'system' : a.type,
    actorId: a?.id ?? null,
    actorLabel: a?.label ?? 'system',
    requestId: origin.requestId,
    ip: origin.ip,
    userAgent: origin.userAgent,
  });
  const audit = Array.isArray(change.audit) ? change.audit.map(record) : record(change.audit);
  const patches = change.patches ?? {};
  const work: UnitOfWork = { writes: change.writes, audit };
  if (Object.keys(patches).length > 0) work.configPatches = patches;
  if (change.keepAnAdmin === true) work.keepAnAdmin = true;
  // With personal data encrypted at rest, the outbox (stored in clear) does not carry the actor's label (an email).
  const records = [...(Array.isArray(audit) ? audit : [audit]), ...(change.announced ?? []).map(record)].map((r) =>
    ctx.options.encryptPii ? { ...r, actorLabel: null } : r,
  );
  const events = [...records.flatMap((r) => eventsFromAudit(r, Object.keys(patches))), ...(change.events ?? [])];
  if (events.length > 0) work.webhookEvents = events.map((e) => toOutbox(e, ctx.now()));
  const { versions } = await ctx.pipeline.commit(work);
  return versions;
}

/**
 * Commits webhook events that go with no other write (the outbox alone), e.g. a rollout stage
 * reached without a stored change. Events of a change belong in that change's `commitMutation`.
 *
 * @example
 * ```ts
 * await emitWebhookEvents(ctx, [emit('rollout.completed', { environment: 'production', flag: 'new-checkout' })]);
 * ```
 */
export async function emitWebhookEvents(ctx: ServerContext, events: readonly WebhookEventInput[]): Promise<void> {
  if (events.length === 0) return;
  await ctx.pipeline.commit({ writes: [], webhookEvents: events.map((e) => toOutbox(e, ctx.now())) });
}
