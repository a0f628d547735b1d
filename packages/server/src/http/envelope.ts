/** A stored resource as the API serves it. */
export interface ResourceObject {
  id: string;
  type: string;
  attributes: Record<string, unknown>;
  relationships?: Record<string, { data: { id: string; type: string } | null }>;
}

/**
 * Wraps a stored resource in the contract's shape.
 *
 * @example
 * ```ts
 * resource('feature-flag', row.id, attrs, { owner: row.ownerId });
 * ```
 */
export function resource(type: string, id: string, attributes: Record<string, unknown>, owner?: string | null): ResourceObject {
  const r: ResourceObject = { id, type, attributes };
  if (owner !== undefined) r.relationships = { owner: { data: owner === null ? null : { id: owner, type: 'user' } } };
  return r;
}

/** Opaque cursor over the store's insertion sequence. */
export function encodeCursor(seq: number): string {
  return Buffer.from(String(seq), 'utf8').toString('base64url');
}

/** Decodes a cursor; `null` when it is not one of ours. */
export function decodeCursor(cursor: string): number | null {
  // Only what encodeCursor makes: garbage decodes to '' (and Number('') is 0), so check the digits.
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,16}$/.test(text) || encodeCursor(Number(text)) !== cursor) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}
