import { RETENTION_CHUNK, type RetentionPass } from './types';

/** One retention transaction: what it deleted, and whether nothing old is left. */
export interface RetentionStep {
  deleted: number;
  done: boolean;
}

/**
 * Runs a retention pass as a series of short transactions (`step(chunk)` deletes at most `chunk`
 * events), handing the event loop back between two so that requests (event batches above all)
 * go on while a large backlog is deleted, until `step` reports nothing left or the pass is
 * stopped. Resolves to the number deleted.
 *
 * @example
 * ```ts
 * const deleted = await retentionPass((chunk) => deleteSomeBefore(cutoff, chunk), { chunk: 5000, signal });
 * ```
 */
export async function retentionPass(step: (chunk: number) => Promise<RetentionStep>, pass: RetentionPass = {}): Promise<number> {
  const chunk = pass.chunk ?? RETENTION_CHUNK;
  let deleted = 0;
  while (pass.signal?.aborted !== true) {
    const r = await step(chunk);
    deleted += r.deleted;
    pass.onChunk?.(r.deleted);
    if (r.done) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return deleted;
}
