import { ApiError } from '../../errors';
import { assertIfMatch, parseIfMatch, preconditionFailed } from '../../http/preconditions';
import { isVersionConflict } from '../../store/types';

/**
 * How many times a change is rebuilt on a newer row before giving up. Each retry means another
 * writer committed in between, so a handful is plenty even for a hot row.
 */
export const MAX_ATTEMPTS = 20;

/**
 * Applies a change to the latest stored version of one row, the way every read-modify-write of
 * the server does it:
 *
 * 1. `load()` reads the row; a stale `ifMatch` (the raw `If-Match` header) is a `412` at once;
 * 2. `apply(row)` builds the change from that row (merge, validate) and commits it with a
 *    compare-and-set on `row.version` (see the store's `WriteOp`);
 * 3. if another change committed in between, the commit fails as a version conflict and nothing
 *    of it is written: with `If-Match` naming a version that is now a `412` with the current
 *    version; otherwise (no `If-Match`, or `*`) the change is rebuilt on the newer row.
 *
 * So the stored result is always the change applied to the latest row — as if read, merged,
 * validated and written in one transaction — and two concurrent edits of different fields both
 * survive.
 *
 * @example
 * ```ts
 * const saved = await onLatestVersion({
 *   load: () => loadWebhook(id),
 *   ifMatch: origin.ifMatch,
 *   what: `webhook '${id}'`,
 *   apply: async (row) => {
 *     const next = { ...row, url: input.url };
 *     await commitMutation(ctx, origin, { writes: [{ table: 'webhooks', action: 'update', row: next }], audit });
 *     return { ...next, version: row.version + 1 };
 *   },
 * });
 * ```
 */
export async function onLatestVersion<R extends { version: number }, T>(op: {
  load: () => Promise<R>;
  apply: (row: R) => Promise<T>;
  ifMatch?: string | null | undefined;
  /** How the 412's message names the resource. */
  what?: string;
}): Promise<T> {
  const ifMatch = parseIfMatch(op.ifMatch);
  for (let attempt = 1; ; attempt++) {
    const row = await op.load();
    assertIfMatch(ifMatch, row.version, op.what);
    try {
      return await op.apply(row);
    } catch (err) {
      if (!isVersionConflict(err)) throw err;
      if (ifMatch !== undefined && !ifMatch.any) throw preconditionFailed((await op.load()).version, op.what);
      if (attempt >= MAX_ATTEMPTS)
        throw new ApiError('CONFLICT', `${op.what ?? 'the resource'} kept changing while this change was applied; send it again`);
    }
  }
}
