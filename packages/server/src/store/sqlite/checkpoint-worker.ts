/**
 * The SQLite checkpointer thread: copies committed WAL frames into the database file, so that
 * no committing connection stalls on a checkpoint (run by the writer's commits, one took
 * ~200 ms and held every acknowledgement behind it). PASSIVE checkpoints never block a writer.
 * They cannot reset the WAL under a writer that never pauses; the writer thread does that
 * itself with a cheap checkpoint of the few frames left (see writer-worker.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openConnection } from './connection';

/** Checkpoint cadence: pages rewritten by several commits in between are copied once. */
const EVERY_MS = 250;

const port = parentPort!;
const { path } = workerData as { path: string };
const db = openConnection(path, { autocheckpointPages: 0 });

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // SQLITE_BUSY and the like: the next round tries again.
  }
}, EVERY_MS);

port.on('message', (m: { op: 'close' }) => {
  if (m.op !== 'close') return;
  clearInterval(timer);
  db.close();
  port.close();
});
