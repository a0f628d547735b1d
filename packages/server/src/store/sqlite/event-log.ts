import type Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { StoredEvent } from '../types';
import { eventTables, packBatches, type PackedBatches } from './event-tables';

/** A message to the writer thread. */
export type WorkerRequest =
  | { id: number; op: 'insert'; batches: PackedBatches }
  | { id: number; op: 'drain' }
  | { id: number; op: 'delete-before'; epochMs: number }
  | { id: number; op: 'close' };

/** A request before it gets its id. */
type Unsent = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** The writer thread's answer to request `id`. */
export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { message: string; code?: string } };

/** Where events are appended and summarized: the writer thread, or inline for `:memory:`. */
export interface EventLog {
  /** Appends batches in one transaction; settles once it is committed. */
  insert(batches: StoredEvent[][]): Promise<{ accepted: number; duplicates: number }[]>;
  /** Settles once the summaries count every event stored before the call. */
  drain(): Promise<void>;
  /** Retention (after a drain): deletes events with a timestamp before `epochMs`. */
  deleteBefore(epochMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A built worker entry (`dist/<name>.js`). From the sources (the test runner), the build's copy:
 * Node cannot start a worker from a `.ts` file, so tests run against `pnpm build`'s output.
 */
function workerFile(name: 'sqlite-event-worker' | 'sqlite-checkpoint-worker'): URL {
  const here = import.meta.url;
  return new URL(fileURLToPath(here).endsWith('.ts') ? `../../../dist/${name}.js` : `./${name}.js`, here);
}

/**
 * Opens the event log of the SQLite file at `path`: a writer thread with its own connection, or,
 * for an in-memory database (which a second connection cannot share), the same work inline on
 * `db`, summarizing each batch right after it is stored.
 *
 * @example
 * ```ts
 * const log = openEventLog(db, '.switchyard/switchyard.db');
 * await log.insert([events]);
 * await log.drain(); // results may now read the summaries
 * ```
 */
export function openEventLog(db: Database.Database, path: string): EventLog {
  return path === ':memory:' ? inlineEventLog(db) : workerEventLog(path);
}

function inlineEventLog(db: Database.Database): EventLog {
  const tables = eventTables(db);
  const catchUp = () => { while (tables.backlog() > 0) tables.aggregate({ maxEvents: 20_000, maxMs: Number.POSITIVE_INFINITY }); };
  return {
    insert: async (batches) => {
      const results = tables.insert(packBatches(batches));
      catchUp();
      return results;
    },
    drain: async () => catchUp(),
    deleteBefore: async (epochMs) => {
      catchUp();
      let deleted = 0;
      for (let step = tables.deleteBefore(epochMs); !step.done; step = tables.deleteBefore(epochMs)) deleted += step.deleted;
      return deleted;
    },
    close: async () => {},
  };
}

function workerEventLog(path: string): EventLog {
  let worker: Worker | null = null;
  let closed = false;
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  /** The running writer thread; a new one if the last one died (its open requests failed). */
  const current = (): Worker => {
    if (worker !== null) return worker;
    const w = new Worker(workerFile('sqlite-event-worker'), { workerData: { path } });
    w.on('message', (r: WorkerReply) => {
      const p = pending.get(r.id);
      if (p === undefined) return;
      pending.delete(r.id);
      if (pending.size === 0) w.unref();
      if (r.ok) p.resolve(r.result);
      else p.reject(Object.assign(new Error(r.error.message), r.error.code !== undefined ? { code: r.error.code } : {}));
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      failAll(new Error(`the SQLite writer thread exited (code ${code})`));
    });
    worker = w;
    return w;
  };

  const call = <T>(req: Unsent): Promise<T> => {
    if (closed) return Promise.reject(new Error('the event log is closed'));
    const w = current();
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      // Referenced only while an answer is owed: an idle writer never holds the process open.
      if (pending.size === 1) w.ref();
      w.postMessage({ ...req, id });
    });
  };

  // Started now, not at the first batch: a backlog left by the last run is summarized while idle.
  current().unref();
  const checkpointer = new Worker(workerFile('sqlite-checkpoint-worker'), { workerData: { path } });
  checkpointer.unref();
  const checkpointerExited = new Promise((resolve) => checkpointer.once('exit', resolve));
  return {
    insert: (batches) => call({ op: 'insert', batches: packBatches(batches) }),
    drain: () => call({ op: 'drain' }),
    deleteBefore: (epochMs) => call({ op: 'delete-before', epochMs }),
    close: async () => {
      if (closed) return;
      // Referenced until they have exited: an awaited close must hold the process open.
      checkpointer.ref();
      checkpointer.postMessage({ op: 'close' });
      if (worker !== null) {
        const w = worker;
        const exited = new Promise((resolve) => w.once('exit', resolve));
        await call({ op: 'close' });
        w.ref();
        await exited;
      }
      closed = true;
      await checkpointerExited;
    },
  };
}
