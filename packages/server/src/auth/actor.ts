import type { ApiKeyKind, Role } from '../store/types';

/** Who is making a request, resolved once by the auth middleware. */
export type Actor =
  | { type: 'user'; id: string; email: string; role: Role; label: string }
  | {
      type: 'api_key';
      id: string;
      kind: ApiKeyKind;
      role: Role | null;
      ownerId: string | null;
      label: string;
      /** A server or client key's environment: everything it reads and sends is that environment's. */
      environment?: string | null;
      /** A client key limited to these metric keys (`null` or absent: any). */
      allowedMetrics?: readonly string[] | null;
    };

/** The user id that owns what this actor creates: the user, or a management key's creator. */
export function ownerIdOf(actor: Actor): string | null {
  return actor.type === 'user' ? actor.id : actor.ownerId;
}
