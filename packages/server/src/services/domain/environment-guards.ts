import { forbidden } from '../../errors';
import type { RequestOrigin, ServerContext } from '../context';

/** The keys of every environment, oldest first. */
export async function environmentKeys(ctx: ServerContext): Promise<string[]> {
  return (await ctx.store.allResources('environment')).map((r) => r.key);
}

/** Whether an environment is protected: only an ADMIN changes flag state or runs experiment lifecycle actions there. */
export async function isProtected(ctx: ServerContext, environment: string): Promise<boolean> {
  const row = await ctx.store.getResource('environment', environment);
  return row?.data.protected === true;
}

/** Refuses a non-ADMIN change in a protected environment. */
export async function assertUnprotected(
  ctx: ServerContext,
  origin: RequestOrigin,
  environments: Iterable<string>,
  what: string,
): Promise<void> {
  const actor = origin.actor;
  if (actor === null || actor.role === 'ADMIN') return;
  for (const e of environments) {
    if (await isProtected(ctx, e)) throw forbidden(`'${e}' is a protected environment: only an ADMIN may ${what} there`);
  }
}
