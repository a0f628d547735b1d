import { z } from 'zod';
import { ApiError } from '../errors';
import { decodeCursor, encodeCursor } from './envelope';

/** `limit` (1-200, default 50) and an opaque `cursor` from the previous page's `meta.pagination.next_cursor`. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
});

/** Decodes a cursor or fails with a 400. */
export function afterOf(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  const seq = decodeCursor(cursor);
  if (seq === null)
    throw new ApiError('VALIDATION_ERROR', 'cursor is not valid', [{ path: 'cursor', message: 'not a cursor this API issued' }]);
  return seq;
}

/** `meta` of a list response. */
export function pageMeta(nextCursor: number | null, limit: number): Record<string, unknown> {
  return { pagination: { limit, next_cursor: nextCursor === null ? null : encodeCursor(nextCursor), has_more: nextCursor !== null } };
}
