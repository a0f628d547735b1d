import type { Role } from './api/resources';

/** What the console asks before enabling a control; the server still decides. */
export const Actions = {
  read: 'read',
  create: 'create',
  editOwn: 'editOwn',
  admin: 'admin',
} as const;

/** An action the console gates. */
export type Action = (typeof Actions)[keyof typeof Actions];

const RANK: Record<Role, number> = { VIEWER: 0, EXPERIMENTER: 1, ADMIN: 2 };

/**
 * Mirrors the server's RBAC table so a control the role cannot use is visibly disabled:
 * VIEWER reads; EXPERIMENTER creates and changes what it owns; ADMIN does everything. In a
 * protected environment only an ADMIN changes flag state or runs experiment lifecycle actions.
 *
 * @example
 * ```ts
 * can('EXPERIMENTER', 'editOwn', { ownerId: ownerOf(flag), userId: me.id }); // true for own flags
 * ```
 */
export function can(role: Role, action: Action, scope: { ownerId?: string | null; userId?: string; protectedEnv?: boolean } = {}): boolean {
  if (action === 'read') return true;
  if (role === 'ADMIN') return true;
  if (scope.protectedEnv === true) return false;
  if (action === 'admin') return false;
  if (action === 'create') return RANK[role] >= RANK.EXPERIMENTER;
  return RANK[role] >= RANK.EXPERIMENTER && scope.ownerId !== undefined && scope.ownerId === scope.userId;
}
