import type { ConfigPatch } from '@switchyard/core';
import type { OutboxEvent, WebhookWriteOp } from './webhook-rows';
import type { ApiKeyRow, AuditRecord, ResourceRow, UserRow } from './row-types';
import { staleWriteError } from './store-errors';

/**
 * One write of a unit of work. Optimistic concurrency is the store's job: an `insert` stores
 * version 1; an `update` is a compare-and-set on `row.version`, the version the change was made
 * from (as read), and stores it + 1; a `delete` with a `version` is one too. When the stored
 * version differs (someone else's change committed first, or the row is gone), the whole unit
 * fails with {@link VERSION_CONFLICT_ERROR_CODE} and nothing of it is written.
 */
export type WriteOp =
  | {
      table: 'resources';
      action: 'insert' | 'update';
      row: ResourceRow;
      /**
       * Compare-and-set (updates only): the stored row must still have this status, else the
       * whole unit fails with a stale-write error (`isStaleWrite`) and nothing is written. Lets
       * two instances racing to act on one transition (a takeover of the background jobs) act once.
       */
      ifStatus?: string | null;
    }
  | { table: 'resources'; action: 'delete'; id: string; version?: number }
  | { table: 'users'; action: 'insert' | 'update'; row: UserRow }
  | { table: 'users'; action: 'delete'; id: string; version?: number }
  | { table: 'api_keys'; action: 'insert' | 'update'; row: ApiKeyRow }
  | WebhookWriteOp;

/**
 * The `code` of the error a unit of work fails with when one of its compare-and-set writes finds
 * another version stored (see {@link WriteOp}). A code, not a class, for the same reason as
 * {@link LAST_ADMIN_ERROR_CODE}.
 */
export const VERSION_CONFLICT_ERROR_CODE = 'SWITCHYARD_VERSION_CONFLICT';

/** The error described at {@link VERSION_CONFLICT_ERROR_CODE}. */
export function versionConflictError(table: WriteOp['table'], id: string, expected: number): Error {
  return Object.assign(new Error(`${table} row '${id}' is no longer at version ${expected}`), { code: VERSION_CONFLICT_ERROR_CODE });
}

/** A compare-and-set write (given the version it read) that changed no row lost the race (see {@link WriteOp}). Both stores. */
export function expectWritten(changed: number, table: WriteOp['table'], id: string, version: number | undefined): void {
  if (changed === 0 && version !== undefined) throw versionConflictError(table, id, version);
}

/**
 * Why a compare-and-set on version and status changed nothing, from the status stored now: a
 * status that moved on is a stale write (the transition happened elsewhere); the same status
 * with a newer version is a conflict to rebuild on. Both stores.
 */
export function statusCasFailure(row: ResourceRow, ifStatus: string | null, current: { status: string | null } | undefined): Error {
  if (current === undefined || current.status !== ifStatus) return staleWriteError(`the ${row.kind} '${row.key}'`);
  return versionConflictError('resources', row.id, row.version);
}

/** Whether an error is the one described at {@link VERSION_CONFLICT_ERROR_CODE}. */
export function isVersionConflict(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === VERSION_CONFLICT_ERROR_CODE;
}

/**
 * Everything one mutation writes, committed atomically: the rows, the config patches (each gets
 * the next config version of its environment) and the audit record. One call, so a PostgreSQL
 * store can map it to one transaction without routes or services knowing.
 */
export interface UnitOfWork {
  writes: WriteOp[];
  /** Per environment key; without `version`: the store assigns each environment's next one. */
  configPatches?: Record<string, Omit<ConfigPatch, 'version'>>;
  /** One record, or one per resource of a bulk change. */
  audit?: AuditRecord | AuditRecord[];
  /**
   * Checked inside the transaction, after the writes: at least one ADMIN must remain, else the
   * whole unit is rolled back (see {@link LAST_ADMIN_ERROR_CODE}). Two ADMINs demoting each other at
   * once cannot both pass it.
   */
  keepAnAdmin?: boolean;
  /**
   * Webhook events this change causes: in the same transaction, each becomes a pending delivery
   * for every enabled webhook subscribed to its type (the outbox), so an event is never sent for
   * a change that rolled back, nor lost for one that committed.
   */
  webhookEvents?: OutboxEvent[];
}

/**
 * The `code` of the error a unit of work with `keepAnAdmin` fails with when it would have left
 * no ADMIN (nothing of it is written). A code, not a class: SQLite commits on its writer thread
 * and only the message and code cross back.
 */
export const LAST_ADMIN_ERROR_CODE = 'SWITCHYARD_LAST_ADMIN';

/** The error described at {@link LAST_ADMIN_ERROR_CODE}. */
export function lastAdminError(): Error {
  return Object.assign(new Error('the server must keep at least one ADMIN'), { code: LAST_ADMIN_ERROR_CODE });
}

/** The audit records of a unit of work, as a list. */
export function auditsOf(work: UnitOfWork): AuditRecord[] {
  return work.audit === undefined ? [] : Array.isArray(work.audit) ? work.audit : [work.audit];
}

/** What a commit produced: the config version each patched environment got. */
export interface CommitResult {
  versions: Record<string, number>;
}
