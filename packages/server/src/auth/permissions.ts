import type { Role } from '../store/types';
import type { Actor } from './actor';

/** What can be done. `lifecycle` covers start/pause/resume/complete/archive. */
export type Action = 'read' | 'create' | 'update' | 'delete' | 'lifecycle';

/** What it is done to. */
export type Subject =
  'feature-flag' | 'segment' | 'experiment' | 'environment' | 'user' | 'api-key' | 'audit-log' | 'results' | 'evaluation' | 'events';

/** The resource an action touches, when there is one: its owner decides EXPERIMENTER updates. */
export interface Target {
  ownerId?: string | null;
  /** For users: the user's own id. */
  id?: string;
}

const RANK: Record<Role, number> = { VIEWER: 0, EXPERIMENTER: 1, ADMIN: 2 };

/** `a` is at least `b`. */
export function roleAtLeast(a: Role, b: Role): boolean {
  return RANK[a] >= RANK[b];
}

/** The lower of two roles: what a management key acts with. */
export function minRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

/**
 * The one place the role matrix lives.
 *
 * | role | experiments, flags, segments | environments | users | api keys | audit log | results |
 * |---|---|---|---|---|---|---|
 * | VIEWER | read | read | read self | own management keys | - | read |
 * | EXPERIMENTER | read, create; update/delete/lifecycle own | read | read self | own management keys | - | read |
 * | ADMIN | all | all | all | all | read | read |
 *
 * Protected environments narrow this further (only an ADMIN changes flag state or runs
 * experiment lifecycle actions there); the services check that, as it depends on the row.
 *
 * SDK keys (`server`, `client`) never reach the management API except server-side evaluation
 * and event ingestion.
 *
 * @example
 * ```ts
 * if (!can(actor, 'update', 'feature-flag', { ownerId: row.ownerId })) throw forbidden();
 * ```
 */
export function can(actor: Actor, action: Action, subject: Subject, target: Target = {}): boolean {
  if (actor.type === 'api_key' && actor.kind !== 'management') {
    if (subject === 'evaluation') return action === 'read';
    if (subject === 'events') return action === 'create' && actor.kind === 'server';
    return false;
  }
  const role = actor.role;
  if (role === null) return false;
  const self = actor.type === 'user' ? actor.id : actor.ownerId;
  if (role === 'ADMIN') return true;
  switch (subject) {
    case 'feature-flag':
    case 'segment':
    case 'experiment':
      if (action === 'read') return true;
      if (role !== 'EXPERIMENTER') return false;
      if (action === 'create') return true;
      return target.ownerId !== undefined && target.ownerId !== null && target.ownerId === self;
    case 'environment':
    case 'results':
    case 'evaluation':
      return action === 'read';
    case 'events':
      return action === 'create' && role === 'EXPERIMENTER';
    case 'user':
      return action === 'read' && target.id !== undefined && target.id === self;
    case 'api-key':
      // Anyone may manage their own management keys; kinds and roles are checked by the route.
      return target.ownerId === undefined ? action === 'create' || action === 'read' : target.ownerId === self;
    case 'audit-log':
      return false;
  }
}
