/**
 * Resource kinds kept in the store. Flags and experiments share one key namespace; an
 * experiment's key is unique within its environment. A guarded rollout belongs to one environment;
 * while it is active its key is its flag's key (so the store's uniqueness allows one active rollout
 * per flag and environment), and its id once it has ended.
 */
export type ResourceKind = 'flag' | 'segment' | 'experiment' | 'environment' | 'rollout';

/** A flag, segment, experiment, environment or rollout row; `data` is the resource's attributes as JSON. */
export interface ResourceRow {
  seq: number;
  id: string;
  kind: ResourceKind;
  /** The environment an experiment or rollout belongs to; `null` for every other kind. */
  environment: string | null;
  key: string;
  ownerId: string | null;
  status: string | null;
  data: Record<string, unknown>;
  /** Starts at 1 and grows by one with every stored change: the resource's `version` and `ETag`. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Roles, lowest first. */
export const ROLES = ['VIEWER', 'EXPERIMENTER', 'ADMIN'] as const;
/** A user's or management key's role. */
export type Role = (typeof ROLES)[number];

export interface UserRow {
  seq: number;
  id: string;
  email: string;
  name: string | null;
  role: Role;
  /** `null` for users provisioned from an external OIDC issuer. */
  passwordHash: string | null;
  source: 'local' | 'oidc';
  /** Bumped by a password change, a role change and a logout: tokens carrying an older one are refused. */
  tokenVersion: number;
  /** See {@link ResourceRow.version}. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type ApiKeyKind = 'server' | 'client' | 'management';

export interface ApiKeyRow {
  seq: number;
  id: string;
  name: string;
  kind: ApiKeyKind;
  role: Role | null;
  /** The environment of a `server` or `client` key; `null` for management keys. */
  environment: string | null;
  prefix: string;
  hash: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /**
   * A client key limited to these metric keys: its track events with another key are refused.
   * Absent or `null`: any metric. Set at creation only.
   */
  allowedMetrics?: readonly string[] | null;
  /** See {@link ResourceRow.version}; recording a key's use does not change it. */
  version: number;
}

export interface AuditRecord {
  at: string;
  actorType: 'user' | 'api_key' | 'system';
  actorId: string | null;
  actorLabel: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  resourceKey: string | null;
  /** The environment of what the action changed, when it belongs to one. */
  environment?: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface AuditRow extends AuditRecord {
  seq: number;
}
