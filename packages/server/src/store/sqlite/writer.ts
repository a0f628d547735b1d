import type Database from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CommitResult, StoredEvent, SummaryRebuild, UnitOfWork } from '../types';
import { packBatches, type PackedBatches } from './event-append';
import { eventTables } from './event-tables';
import { rebuildSummariesSqlite } from './rebuild-summaries';
import { storeWrites } from './writes';

/** A message to the writer thread. */
export type WorkerRequest =
  | { id: number; op: 'insert'; batches: PackedBatches }
  | { id: number; op: 'drain' }
  | { id: number; op: 'delete-step'; epochMs: number; step: number }
  | { id: number; op: 'rebuild-summaries'; environment: string; key: string; maxValue: number }
  | { id: number; op: 'commit'; work: UnitOfWork }
  | { id: number; op: 'set-setting'; key: string; value: string }
  | { id: number; op: 'touch-key'; keyId: string; at: string }
  | { id: number; op: 'close' };

/** A request before it gets its id. */
type Unsent = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** The writer thread's answer to request `id`. */
export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { message: string; code?: string } };

/**
 * Every write to the SQLite file: event batches (appended, then summarized behind ingestion),
 * units of work, settings. One writer thread with its own connection does them all, so the main
 * thread never waits synchronously for another connection's write lock; it only reads.
 */
export interface Writer {
  /** Appends batches in one transaction; settles once it is committed. */
  insertEvents(batches: StoredEvent[][]): Promise<{ accepted: number; duplicates: number }[]>;
  /** Settles once the summaries count every event stored before the call. */
  drain(): Promise<void>;
  /**
   * One retention transaction (after a drain, to reach every event stored before it): deletes
   * summarized events with a timestamp before `epochMs` among the next `step` seqs; `done` once
   * none is left. One request per step, so batches sent meanwhile are stored in between.
   */
  deleteStep(epochMs: number, step: number): Promise<{ deleted: number; done: boolean }>;
  /** See {@link Store.rebuildExperimentSummaries}; summarizes every stored event first. */
  rebuildSummaries(environment: string, key: string, maxValue: number): Promise<SummaryRebuild | null>;
  commit(work: UnitOfWork): Promise<CommitResult>;
  setSetting(key: string, value: string): Promise<void>;
  touchApiKey(id: string, at: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A built worker entry (`dist/<name>.js`). From the sources (the test runner), the build's copy:
 * Node cannot start a worker from a `.ts` file, so tests run against `pnpm build`'s output.
 */
function workerFile(name: 'sqlite-writer-worker' | 'sqlite-checkpoint-worker'): URL {
  const here = import.meta.url;
  return new URL(fileURLToPath(here).endsWith('.ts') ? `../../../dist/${name}.js` : `./${name}.js`, here);
}

/** Whether `path` names a private in-memory database, which a second connection cannot open. */
export const isMemoryPath = (path: string) => path === ':memory:' || path === '';

/**
 * Opens the writer of the SQLite file at `path`: a writer thread and a checkpointer thread, each
 * with its own connection; for an in-memory database, the same work inline on `db`, summarizing
 * each event batch right after it is stored.
 *
 * @example
 * ```ts
 * const writer = openWriter(db, '.switchyard/switchyard.db');
 * await writer.insertEvents([events]);
 * await writer.drain(); // results may now read the summaries
 * ```
 */
export function openWriter(db: Database.Database, path: string, options: WriterOptions = {}): Writer {
  return isMemoryPath(path) ? inlineWriter(db) : threadWriter(path, options);
}

/** Settings of the writer thread. */
export interface WriterOptions {
  /**
   * The results aggregator's share of the writer thread while event batches keep arriving
   * (0 < share <= 1; default 0.04, one 40 ms slice a second). Ingestion and the aggregator
   * compete for the same CPU: a larger share keeps results fresher under sustained ingestion
   * and lowers the most events/s the server takes in. Idle time and results requests that wait
   * get the aggregator in full whatever the share.
   */
  aggregatorShare?: number;
}

function inlineWriter(db: Database.Database): Writer {
  const tables = eventTables(db);
  const writes = storeWrites(db);
  const catchUp = () => {
    while (tables.backlog() > 0) tables.aggregate({ maxEvents: 20_000, maxMs: Number.POSITIVE_INFINITY });
  };
  return {
    insertEvents: async (batches) => {
      const results = tables.insert([packBatches(batches)])[0]!;
      catchUp();
      return results;
    },
    drain: async () => catchUp(),
    deleteStep: async (epochMs, step) => {
      catchUp();
      return tables.deleteBefore(epochMs, step);
    },
    rebuildSummaries: async (environment, key, maxValue) => {
      catchUp();
      return rebuildSummariesSqlite(db, environment, key, maxValue);
    },
    commit: async (work) => writes.commit(work),
    setSetting: async (key, value) => writes.setSetting(key, value),
    touchApiKey: async (id, at) => writes.touchApiKey(id, at),
    close: async () => {},
  };
}

function threadWriter(path: string, options: WriterOptions): Writer {
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
    const w = new Worker(workerFile('sqlite-writer-worker'), { workerData: { path, aggregatorShare: options.aggregatorShare } });
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
    if (closed && req.op !== 'close') return Promise.reject(new Error('the SQLite store is closed'));
    const w = current();
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      // Referenced only while an answer is owed: an idle writer never holds the process open.
      if (pending.size === 1) w.ref();
      w.postMessage({ ...req, id });
    });
  };

  // Started now, not at the first write: a backlog left by the last run is summarized while idle.
  current().unref();
  let checkpointer = startCheckpointer();
  let checkpointerExited = new Promise((resolve) => checkpointer.once('exit', resolve));

  /** Checkpointing must not stop for good: a failed checkpointer is replaced a second later. */
  function startCheckpointer(): Worker {
    const c = new Worker(workerFile('sqlite-checkpoint-worker'), { workerData: { path } });
    c.unref();
    c.on('error', () => {
      if (closed) return;
      setTimeout(() => {
        if (closed) return;
        checkpointer = startCheckpointer();
        checkpointerExited = new Promise((resolve) => checkpointer.once('exit', resolve));
      }, 1000).unref();
    });
    return c;
  }

  return {
    insertEvents: (batches) => call({ op: 'insert', batches: packBatches(batches) }),
    drain: () => call({ op: 'drain' }),
    deleteStep: (epochMs, step) => call({ op: 'delete-step', epochMs, step }),
    rebuildSummaries: (environment, key, maxValue) => call({ op: 'rebuild-summaries', environment, key, maxValue }),
    commit: (work) => call({ op: 'commit', work }),
    setSetting: (key, value) => call({ op: 'set-setting', key, value }),
    touchApiKey: (keyId, at) => call({ op: 'touch-key', keyId, at }),
    close: async () => {
      if (closed) return;
      closed = true;
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
      await checkpointerExited;
    },
  };
}
