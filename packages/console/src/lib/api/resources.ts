import type { Schemas } from './client';

/** A stored resource in the management API's shape. */
export interface Resource<A> {
  id: string;
  type: string;
  attributes: A;
  relationships?: Record<string, { data: { type: string; id: string } | null }>;
}

/** Fields the server adds to every stored resource. */
export interface Stored {
  id?: string;
  created_at?: string;
  updated_at?: string;
  /** Present once the server versions resources (If-Match / 412). */
  version?: number;
}

/** One environment's state of a flag (the per-environment half of a flag). */
export type FlagState = Pick<Schemas['FeatureFlagInput'], 'enabled' | 'off_variant' | 'prerequisites' | 'rules' | 'default_serve'>;

/**
 * A flag as the API returns it: the request environment's state flattened at the top level,
 * and, once the server has environments, every environment's state in `environments`.
 */
export type FlagAttributes = Schemas['FeatureFlagInput'] &
  Stored & {
    tags?: string[];
    environments?: Record<string, FlagState>;
  };

/** A user as the API returns it (the password is write-only). */
export interface UserAttributes extends Stored {
  email: string;
  name: string | null;
  role: Role;
  source?: string;
}

/** The three roles, lowest first. */
export const ROLES = ['VIEWER', 'EXPERIMENTER', 'ADMIN'] as const;

/** A role name. */
export type Role = (typeof ROLES)[number];

/** One audit record (append-only): who did what to which resource, with before and after. */
export type AuditRecord = Schemas['AuditRecord'];

/**
 * The id of the user who owns a stored resource (its creator), from `relationships.owner`, or
 * `null` when nobody does (made by the system or an unowned key). Ownership decides what an
 * EXPERIMENTER may change.
 *
 * @example
 * ```ts
 * can(me.role, 'editOwn', { ownerId: ownerOf(flag), userId: me.id });
 * ```
 */
export function ownerOf(r: { relationships?: Record<string, unknown> | undefined } | null | undefined): string | null {
  const owner = r?.relationships?.['owner'] as { data?: { id?: string } | null } | undefined;
  return owner?.data?.id ?? null;
}
