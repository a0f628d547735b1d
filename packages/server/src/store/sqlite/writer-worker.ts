/**
 * The SQLite writer thread: every write to the file. It appends event batches (each reply is what
 * a `202` waits for), commits units of work and settings, and in the time ingestion leaves runs
 * the aggregator that keeps the results' summaries up to date. One writer means no connection
 * ever waits for another's lock, and the main thread (HTTP, parsing, reads) and SQLite's writes
 * run on two cores.
 *
 * Scheduling: requests first, in arrival order. The aggregator runs when no batch has arrived for
 * {@link IDLE_MS}, takes {@link INGESTING_SHARE} of this thread's time under sustained load (a
 * slice, then as long again for batches alone), and runs back to back (between requests) while
 * somebody waits for it.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection';
import { eventTables } from './event-tables';
import { rebuildSummariesSqlite } from './rebuild-summaries';
import type { WorkerReply, WorkerRequest } from './writer';
import { storeWrites } from './writes';

/** No batch for this long counts as idle. */
const IDLE_MS = 50;
/**
 * Under sustained ingestion, the aggregator's default share of this thread: after a slice of t ms,
 * batches have it alone for t × (1 − share) / share ms. Ingestion and the aggregator compete for
 * the same CPU, so every bit of share costs events/s at saturation: by default ingestion comes
 * first (one 40 ms slice a second, as in the first release), the aggregator catches up when
 * batches pause and at once for whoever waits for it. `SWITCHYARD_AGGREGATOR_SHARE` trades the
 * other way (0.5 kept the summaries seconds rather than minutes behind a steady 100k events/s, at
 * about half the most events/s).
 */
const DEFAULT_INGESTING_SHARE = 0.04;
/** The least time between two slices under ingestion: a slice takes in several batches, not one commit per batch. */
const MIN_GAP_MS = 20;
/** After a failed slice (disk full, say), the next try waits this long. */
const RETRY_MS = 1000;
/**
 * How often this connection checkpoints what the checkpointer thread has not copied yet (a
 * few frames: cheap), so that the next commit can start the WAL file over instead of growing it.
 */
const RESET_WAL_EVERY_MS = 1000;
/**
 * A slice is one transaction. Each commit writes every page the slice touched, and the
 * summaries are keyed by random unit ids, so large slices cost less per event (each page is
 * written once per slice however many of its rows changed); the time bound (met by sizing the
 * slice from the rate the last ones ran at) keeps a batch that arrives meanwhile from waiting
 * long. While somebody waits for the summaries they get the largest.
 */
const SLICES = {
  waited: { maxEvents: 100_000, maxMs: 250 },
  idle: { maxEvents: 100_000, maxMs: 100 },
  ingesting: { maxEvents: 100_000, maxMs: 40 },
} as const;

const port = parentPort!;
const { path, aggregatorShare } = workerData as { path: string; aggregatorShare?: number };
const INGESTING_SHARE = aggregatorShare ?? DEFAULT_INGESTING_SHARE;
// The checkpointer thread checkpoints (checkpoint-worker.ts): a commit here never stalls on one.
const db = openConnection(path, { autocheckpointPages: 0 });
const tables = eventTables(db);
const writes = storeWrites(db);

let lastInsertAt = 0;
let lastWalReset = performance.now();
/** When the aggregator's share under ingestion allows the next slice. */
let nextShareAt = 0;
let retryAfter = 0;
/** The pending aggregation tick, if any. */
let timer: { immediate: boolean; cancel: () => void } | null = null;
let closed = false;
/** Those waiting for the aggregator to reach a seq (drains). */
const waiters: { target: number; resolve: () => void; reject: (err: unknown) => void }[] = [];

const reply = (r: WorkerReply) => port.postMessage(r);

function describe(err: unknown): { message: string; code?: string } {
  const e = err as { message?: string; code?: string };
  return { message: e.message ?? String(err), ...(e.code !== undefined ? { code: e.code } : {}) };
}

/** Answers request `id` with what `work` settles to. */
function answer(id: number, work: Promise<unknown>): void {
  work.then(
    (result) => reply({ id, ok: true, result: result ?? null }),
    (err: unknown) => reply({ id, ok: false, error: describe(err) }),
  );
}

function resetWalIfDue(): void {
  if (performance.now() - lastWalReset < RESET_WAL_EVERY_MS) return;
  lastWalReset = performance.now();
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy with the checkpointer's own round: next time.
  }
}

function settleWaiters(): void {
  const reached = tables.aggregatedSeq();
  for (let i = waiters.length - 1; i >= 0; i--) {
    if (waiters[i]!.target <= reached) waiters.splice(i, 1)[0]!.resolve();
  }
}

function schedule(): void {
  if (closed || tables.backlog() === 0) return;
  const wait = Math.max(0, retryAfter - performance.now());
  // Someone waiting, or idle: setImmediate, which runs after the requests already queued.
  const now = wait === 0 && (waiters.length > 0 || performance.now() - lastInsertAt >= IDLE_MS);
  if (timer !== null && (timer.immediate || !now)) return;
  timer?.cancel();
  if (now) {
    const h = setImmediate(tick);
    timer = { immediate: true, cancel: () => clearImmediate(h) };
  } else {
    const h = setTimeout(tick, Math.max(wait, Math.min(IDLE_MS, nextShareAt - performance.now()), 1));
    timer = { immediate: false, cancel: () => clearTimeout(h) };
  }
}

function tick(): void {
  timer = null;
  const t = performance.now();
  const idle = t - lastInsertAt >= IDLE_MS;
  const due = t >= retryAfter && (waiters.length > 0 || idle || t >= nextShareAt);
  if (due) {
    try {
      tables.aggregate(waiters.length > 0 ? SLICES.waited : idle ? SLICES.idle : SLICES.ingesting);
    } catch (err) {
      // The slice rolled back; its events stay pending for the next try.
      retryAfter = performance.now() + RETRY_MS;
      for (const w of waiters.splice(0)) w.reject(err);
    }
    const end = performance.now();
    nextShareAt = end + Math.max(MIN_GAP_MS, ((end - t) * (1 - INGESTING_SHARE)) / INGESTING_SHARE);
    settleWaiters();
    resetWalIfDue();
  }
  schedule();
}

/** Resolves once the summaries count every event stored so far; slices run back to back meanwhile, between requests. */
function caughtUp(): Promise<void> {
  return new Promise((resolve, reject) => {
    waiters.push({ target: tables.storedSeq(), resolve, reject });
    settleWaiters();
    schedule();
  });
}

/** A rebuild sees exactly the summarized events: any batch stored since the catch-up is summarized first, in the same turn. */
async function rebuild(environment: string, key: string, maxValue: number) {
  await caughtUp();
  while (tables.backlog() > 0) tables.aggregate({ maxEvents: 20_000, maxMs: Number.POSITIVE_INFINITY });
  return rebuildSummariesSqlite(db, environment, key, maxValue);
}

/**
 * Appends the batches of `first` and of every insert request queued behind it in one
 * transaction (group commit on this side: the main thread hands batches over as they arrive,
 * without waiting for the previous commit), answers each, and returns the request that stopped
 * the run (handled next, in order), if any.
 */
function insertQueued(first: WorkerRequest & { op: 'insert' }): WorkerRequest | undefined {
  const group = [first];
  let next: WorkerRequest | undefined;
  for (let r = receiveMessageOnPort(port); r !== undefined; r = receiveMessageOnPort(port)) {
    const m = r.message as WorkerRequest;
    if (m.op !== 'insert') {
      next = m;
      break;
    }
    group.push(m);
  }
  try {
    const results = tables.insert(group.map((m) => m.batches));
    lastInsertAt = performance.now();
    group.forEach((m, i) => reply({ id: m.id, ok: true, result: results[i] }));
  } catch (err) {
    for (const m of group) reply({ id: m.id, ok: false, error: describe(err) });
  }
  resetWalIfDue();
  return next;
}

/** Handles one request; an insert also takes every insert queued behind it, and may hand back the request after them. */
function handle(m: WorkerRequest): WorkerRequest | undefined {
  try {
    switch (m.op) {
      case 'insert':
        return insertQueued(m);
      case 'commit':
        reply({ id: m.id, ok: true, result: writes.commit(m.work) });
        break;
      case 'set-setting':
        writes.setSetting(m.key, m.value);
        reply({ id: m.id, ok: true, result: null });
        break;
      case 'touch-key':
        writes.touchApiKey(m.keyId, m.at);
        reply({ id: m.id, ok: true, result: null });
        break;
      case 'drain':
        answer(m.id, caughtUp());
        break;
      case 'delete-step': {
        // One short transaction per request: batches that arrived meanwhile are stored between two.
        reply({ id: m.id, ok: true, result: tables.deleteBefore(m.epochMs, m.step) });
        resetWalIfDue();
        break;
      }
      case 'rebuild-summaries':
        answer(m.id, rebuild(m.environment, m.key, m.maxValue));
        break;
      case 'close':
        closed = true;
        timer?.cancel();
        for (const w of waiters.splice(0)) w.reject(new Error('the SQLite store is closing'));
        db.close();
        reply({ id: m.id, ok: true, result: null });
        port.close();
        return undefined;
    }
  } catch (err) {
    reply({ id: m.id, ok: false, error: describe(err) });
  }
  return undefined;
}

port.on('message', (first: WorkerRequest) => {
  for (let m: WorkerRequest | undefined = first; m !== undefined;) m = handle(m);
  if (!closed) schedule();
});

// A backlog left by the last run (stored, not yet summarized) is summarized while idle.
schedule();
