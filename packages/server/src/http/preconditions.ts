import { ApiError } from '../errors';

/**
 * Optimistic concurrency over HTTP. Every stored resource has an integer `version`; its
 * single-resource responses carry it as a strong `ETag: "<version>"`, and a write sent with
 * `If-Match` only applies to the version it names (`*`: any existing one).
 */

/** The strong entity tag of a version. */
export const etagOf = (version: number): string => `"${version}"`;

/** A parsed `If-Match`: any current version (`*`), or one of these entity tags. */
export type IfMatch = { any: true } | { any: false; tags: string[] };

const TAG = /^\s*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*$/;

/**
 * Parses an `If-Match` header value (RFC 9110: `*` or a comma-separated list of entity tags);
 * `undefined` when there is none. Weak tags are kept with their `W/` prefix: the comparison is
 * strong, so they never match. Anything else is a `400` that names the expected form.
 *
 * @example
 * ```ts
 * parseIfMatch('"3"'); // { any: false, tags: ['"3"'] }
 * parseIfMatch('*'); // { any: true }
 * ```
 */
export function parseIfMatch(header: string | null | undefined): IfMatch | undefined {
  if (header === undefined || header === null) return undefined;
  if (header.trim() === '*') return { any: true };
  const tags: string[] = [];
  for (const part of header.split(',')) {
    const m = TAG.exec(part);
    if (m === null)
      throw new ApiError('VALIDATION_ERROR', 'the If-Match header is malformed', [
        { path: 'If-Match', message: 'expected * or quoted entity tags from an ETag header, e.g. "3"' },
      ]);
    tags.push(`${m[1] ?? ''}"${m[2]!}"`);
  }
  return { any: false, tags };
}

/**
 * The `412 PRECONDITION_FAILED` of a stale `If-Match`: the current version in `details` and as
 * the response's `ETag`, so the client can reload or retry against it.
 */
export function preconditionFailed(currentVersion: number, what = 'the resource'): ApiError {
  return new ApiError(
    'PRECONDITION_FAILED',
    `${what} was changed by someone else (it is at version ${currentVersion}); reload it and apply your change again`,
    { current_version: currentVersion },
    { ETag: etagOf(currentVersion) },
  );
}

/**
 * Throws {@link preconditionFailed} unless `ifMatch` is absent, `*`, or names `currentVersion`.
 *
 * @example
 * ```ts
 * assertIfMatch(parseIfMatch(c.req.header('if-match')), row.version, "feature flag 'checkout'");
 * ```
 */
export function assertIfMatch(ifMatch: IfMatch | undefined, currentVersion: number, what?: string): void {
  if (ifMatch === undefined || ifMatch.any) return;
  if (!ifMatch.tags.includes(etagOf(currentVersion))) throw preconditionFailed(currentVersion, what);
}

/**
 * The `ETag` of a response body that is one stored resource (`{id, type, attributes: {version}}`);
 * `undefined` for anything else (lists, computed answers).
 */
export function etagOfBody(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const r = data as { id?: unknown; type?: unknown; attributes?: { version?: unknown } };
  if (typeof r.id !== 'string' || typeof r.type !== 'string') return undefined;
  const v = r.attributes?.version;
  return typeof v === 'number' && Number.isSafeInteger(v) ? etagOf(v) : undefined;
}
