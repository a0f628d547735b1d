/**
 * Typed store failures. Errors carry a `code` rather than relying on their class: SQLite
 * commits on its writer thread and only the message and code cross back to the caller.
 */

/** The store cannot be reached, or did not answer in time (connection refused, reset, timed out). */
export const STORE_UNAVAILABLE_CODE = 'SWITCHYARD_STORE_UNAVAILABLE';

/** A compare-and-set write found the row no longer in the state it expected: someone else changed it first. */
export const STALE_WRITE_CODE = 'SWITCHYARD_STALE_WRITE';

/** An error the store raises when its database is down or too slow; the HTTP layer answers it with `503`. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = STORE_UNAVAILABLE_CODE;
}

/** A row changed between reading it and writing it (see `WriteOp.ifStatus`); nothing of the unit was written. */
export function staleWriteError(what: string): Error {
  return Object.assign(new Error(`${what} was changed by someone else meanwhile; nothing was written`), { code: STALE_WRITE_CODE });
}

/** A write would repeat a unique value (a key in its namespace, a user's email, a key hash); nothing of the unit was written. */
export const UNIQUE_VIOLATION_CODE = 'SWITCHYARD_UNIQUE_VIOLATION';

/**
 * The error both stores raise for a unique violation. The message keeps the database's
 * `UNIQUE constraint failed: ...` wording for logs; callers test it with {@link isUniqueViolation}.
 */
export function uniqueViolationError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: UNIQUE_VIOLATION_CODE });
}

const codeOf = (err: unknown): unknown => (err !== null && typeof err === 'object' ? (err as { code?: unknown }).code : undefined);

/** `true` for {@link StoreUnavailableError} (also across a worker boundary, by its code). */
export function isStoreUnavailable(err: unknown): boolean {
  return codeOf(err) === STORE_UNAVAILABLE_CODE;
}

/** `true` for the error of {@link staleWriteError}. */
export function isStaleWrite(err: unknown): boolean {
  return codeOf(err) === STALE_WRITE_CODE;
}

/**
 * `true` for the error of {@link uniqueViolationError} (also across the SQLite writer thread, by
 * its code), e.g. to answer a duplicate key with `409`.
 *
 * @example
 * ```ts
 * try {
 *   await store.commit(work);
 * } catch (e) {
 *   if (isUniqueViolation(e)) throw conflict(`the key '${key}' is already in use`, { key });
 *   throw e;
 * }
 * ```
 */
export function isUniqueViolation(err: unknown): boolean {
  return codeOf(err) === UNIQUE_VIOLATION_CODE;
}

/** SQLite's extended result codes of a UNIQUE or PRIMARY KEY constraint failure (better-sqlite3 puts them in `code`). */
const SQLITE_UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

/**
 * A SQLite unique or primary-key failure as {@link uniqueViolationError}; anything else unchanged.
 * A uniqueness SQLite cannot declare (flags and experiments share one key namespace) is a
 * trigger that aborts with the constraint's own wording, and a trigger cannot set a code: that
 * wording, which the migrations own, is what marks it here, in this one place.
 */
export function asSqliteUniqueViolation(err: unknown): unknown {
  const code = codeOf(err);
  const unique =
    (typeof code === 'string' && SQLITE_UNIQUE_CODES.has(code)) ||
    (code === 'SQLITE_CONSTRAINT_TRIGGER' && (err as Error).message.startsWith('UNIQUE constraint failed'));
  return unique ? uniqueViolationError((err as Error).message, err) : err;
}

/** Node socket errors that mean "the database is not there". */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** SQLSTATEs of a server going away or refusing work: shutdown, crash, starting up, out of connections, statement timeout. */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);
/** node-postgres reports its own timeouts and dropped connections by message only. */
const DRIVER_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable',
  'Client has encountered a connection error',
];

/**
 * `true` when a PostgreSQL driver error means the database is unreachable or too slow rather
 * than that the statement was wrong: such errors become {@link StoreUnavailableError}.
 */
export function isPostgresUnavailable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const code = codeOf(err);
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08'))) return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && DRIVER_MESSAGES.some((m) => message.includes(m));
}

/** Wraps a driver error that {@link isPostgresUnavailable} into a {@link StoreUnavailableError}; returns anything else unchanged. */
export function asUnavailable(err: unknown): unknown {
  if (isStoreUnavailable(err) || !isPostgresUnavailable(err)) return err;
  return new StoreUnavailableError(`the database is unavailable: ${(err as Error).message}`, { cause: err });
}
