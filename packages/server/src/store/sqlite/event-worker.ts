/**
 * The SQLite writer thread: appends event batches (each reply is what a `202` waits for) and,
 * in the time ingestion leaves, runs the aggregator that keeps the results' summaries up to
 * date. Owning these writes off the main thread lets HTTP parsing and SQLite run on two cores,
 * and keeps commits from stalling every other request.
 *
 * Scheduling: ingestion first. The aggregator runs when no batch has arrived for
 * {@link IDLE_MS}, at least one slice every {@link SHARE_EVERY_MS} under sustained load, and
 * back to back (between batches) while somebody waits for a drain.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection';
import { eventTables, type PackedBatches } from './event-tables';
import type { WorkerReply, WorkerRequest } from './event-log';

/** No batch for this long counts as idle. */
const IDLE_MS = 50;
/** Under sustained ingestion, the aggregator still gets one slice this often. */
const SHARE_EVERY_MS = 1000;
/**
 * How often this connection checkpoints what the checkpointer thread has not copied yet (a
 * few frames: cheap), so that the next commit can start the WAL file over instead of growing it.
 */
const RESET_WAL_EVERY_MS = 1000;
/** One slice: one transaction, bounded so a waiting batch is not held up long. */
const SLICE = { maxEvents: 20_000, maxMs: 40 };

const port = parentPort!;
const { path } = workerData as { path: string };
// The checkpointer thread checkpoints (checkpoint-worker.ts): a commit here never stalls on one.
const db = openConnection(path, { autocheckpointPages: 0 });
const tables = eventTables(db);

let lastInsertAt = 0;
let lastWalReset = performance.now();
let lastSliceAt = performance.now();
/** The pending aggregation tick, if any. */
let timer: { cancel: () => void } | null = null;
let closed = false;
/** Those waiting for the aggregator to reach a seq (drains, retention). */
const waiters: { target: number; resolve: () => void; reject: (err: unknown) => void }[] = [];

const reply = (r: WorkerReply) => port.postMessage(r);

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

/** Resolves once the summaries count every event stored so far; slices run back to back meanwhile, between batches. */
function caughtUp(): Promise<void> {
  return new Promise((resolve, reject) => {
    waiters.push({ target: tables.storedSeq(), resolve, reject });
    settleWaiters();
    schedule();
  });
}

/**
 * Retention, one chunk of seqs per transaction with batches let in between: deleting millions of
 * rows in one transaction would hold the write lock (and every acknowledgement) for seconds.
 */
async function deleteBefore(epochMs: number): Promise<number> {
  await caughtUp();
  let deleted = 0;
  for (;;) {
    const step = tables.deleteBefore(epochMs);
    deleted += step.deleted;
    if (step.done) return deleted;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Answers request `id` with what `work` settles to. */
function answer(id: number, work: Promise<unknown>): void {
  work.then((result) => reply({ id, ok: true, result: result ?? null }), (err: unknown) => reply({ id, ok: false, error: describe(err) }));
}

function schedule(): void {
  if (timer !== null || closed || tables.backlog() === 0) return;
  const busy = performance.now() - lastInsertAt < IDLE_MS;
  // setImmediate runs after the messages already queued: batches go first.
  if (!busy || waiters.length > 0) {
    const h = setImmediate(tick);
    timer = { cancel: () => clearImmediate(h) };
  } else {
    const h = setTimeout(tick, IDLE_MS);
    timer = { cancel: () => clearTimeout(h) };
  }
}

function tick(): void {
  timer = null;
  const t = performance.now();
  const due = waiters.length > 0 || t - lastInsertAt >= IDLE_MS || t - lastSliceAt >= SHARE_EVERY_MS;
  if (due) {
    try {
      tables.aggregate(SLICE);
    } catch (err) {
      // The slice rolled back; its events stay pending and are retried on the next tick.
      for (const w of waiters.splice(0)) w.reject(err);
    }
    lastSliceAt = performance.now();
    settleWaiters();
  }
  schedule();
}

function describe(err: unknown): { message: string; code?: string } {
  const e = err as { message?: string; code?: string };
  return { message: e.message ?? String(err), ...(e.code !== undefined ? { code: e.code } : {}) };
}

port.on('message', (m: WorkerRequest) => {
  try {
    switch (m.op) {
      case 'insert': {
        const result = tables.insert(m.batches as PackedBatches);
        lastInsertAt = performance.now();
        reply({ id: m.id, ok: true, result });
        resetWalIfDue();
        break;
      }
      case 'drain':
        answer(m.id, caughtUp());
        break;
      case 'delete-before':
        answer(m.id, deleteBefore(m.epochMs));
        break;
      case 'close':
        closed = true;
        timer?.cancel();
        db.close();
        reply({ id: m.id, ok: true, result: null });
        port.close();
        return;
    }
  } catch (err) {
    reply({ id: m.id, ok: false, error: describe(err) });
  }
  schedule();
});
