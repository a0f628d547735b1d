import type { ApiKeyKind, ApiKeyRow, AuditRow, Page, ResourceKind, ResourceRow, Role, UserRow } from './types';

/**
 * Row mapping shared by the SQLite and PostgreSQL stores: both keep ids and timestamps as text,
 * JSON as text and sequences as integers (PostgreSQL's BIGINTs arrive as strings, hence Number).
 */
export type Row = Record<string, unknown>;

/** A numeric column as a number (PostgreSQL returns BIGINT as a string). */
export const num = (v: unknown): number => Number(v);

/** JSON text for a column, `null` for undefined. */
export const json = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));
/** A JSON text column back to a value. */
export const parse = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : null);
/** Flags and experiments share one key namespace; segments, environments and rollouts have their own. */
export const ns = (kind: ResourceKind): string => (kind === 'segment' || kind === 'environment' || kind === 'rollout' ? kind : 'flag');

/** The `environment` column of a resource row: `''` for every kind that belongs to none. */
export const envColumn = (environment: string | null): string => environment ?? '';

/**
 * How the results' summaries name an experiment or a unit: `<environment>:<key>`. An environment
 * key has no `:`, so the first one splits them again.
 */
export const scoped = (environment: string, key: string): string => `${environment}:${key}`;

export function toResource(r: Row): ResourceRow {
  return {
    seq: num(r.seq),
    id: r.id as string,
    kind: r.kind as ResourceKind,
    environment: r.environment === '' || r.environment === undefined || r.environment === null ? null : (r.environment as string),
    key: r.key as string,
    ownerId: (r.owner_id as string | null) ?? null,
    status: (r.status as string | null) ?? null,
    data: parse(r.data) as Record<string, unknown>,
    version: num(r.version ?? 1),
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

export function toUser(r: Row): UserRow {
  return {
    seq: num(r.seq),
    id: r.id as string,
    email: r.email as string,
    name: (r.name as string | null) ?? null,
    role: r.role as Role,
    passwordHash: (r.password_hash as string | null) ?? null,
    source: r.source as 'local' | 'oidc',
    tokenVersion: num(r.token_version ?? 0),
    version: num(r.version ?? 1),
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

/** An API key's metric allowlist as stored: JSON text, or `NULL` for any metric. */
export function allowedMetricsColumn(list: readonly string[] | null | undefined): string | null {
  return list === undefined || list === null ? null : JSON.stringify(list);
}

export function toApiKey(r: Row): ApiKeyRow {
  return {
    seq: num(r.seq),
    id: r.id as string,
    name: r.name as string,
    kind: r.kind as ApiKeyKind,
    role: (r.role as Role | null) ?? null,
    environment: (r.environment as string | null) ?? null,
    prefix: r.prefix as string,
    hash: r.hash as string,
    createdBy: (r.created_by as string | null) ?? null,
    createdAt: r.created_at as string,
    lastUsedAt: (r.last_used_at as string | null) ?? null,
    revokedAt: (r.revoked_at as string | null) ?? null,
    allowedMetrics: typeof r.allowed_metrics === 'string' ? (JSON.parse(r.allowed_metrics) as string[]) : null,
    version: num(r.version ?? 1),
  };
}

export function toAudit(r: Row): AuditRow {
  return {
    seq: num(r.seq),
    at: r.at as string,
    actorType: r.actor_type as AuditRow['actorType'],
    actorId: (r.actor_id as string | null) ?? null,
    actorLabel: (r.actor_label as string | null) ?? null,
    action: r.action as string,
    resourceType: r.resource_type as string,
    resourceId: (r.resource_id as string | null) ?? null,
    resourceKey: (r.resource_key as string | null) ?? null,
    environment: (r.environment as string | null) ?? null,
    before: parse(r.before),
    after: parse(r.after),
    requestId: (r.request_id as string | null) ?? null,
    ip: (r.ip as string | null) ?? null,
    userAgent: (r.user_agent as string | null) ?? null,
  };
}

export function page<T extends { seq: number }>(rows: T[], limit: number): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return { items, nextCursor: more ? items[items.length - 1]!.seq : null };
}
