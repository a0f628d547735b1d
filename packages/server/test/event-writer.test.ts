import { describe, expect, it } from 'vitest';
import { EventWriter } from '../src/services/events/event-writer';
import type { Store, StoredEvent } from '../src/store/types';

const event = (id: string): StoredEvent => ({
  id,
  type: 'track',
  key: 'purchase',
  unitId: `u-${id}`,
  experiment: null,
  variant: null,
  value: 1,
  properties: null,
  timestamp: 1,
  receivedAt: 1,
  environment: 'production',
  sentBy: null,
});

/**
 * A store whose commits finish only when the test says so: the one way to hold a transaction
 * open at a chosen moment (the real stores are exercised by events.test.ts and the benchmarks).
 */
function gatedStore() {
  const commits: { batches: StoredEvent[][]; finish: () => void }[] = [];
  const store = {
    insertEventBatches: (batches: StoredEvent[][]) =>
      new Promise<{ accepted: number; duplicates: number }[]>((resolve) => {
        commits.push({ batches, finish: () => resolve(batches.map((b) => ({ accepted: b.length, duplicates: 0 }))) });
      }),
  } as unknown as Store;
  return { store, commits };
}

describe('EventWriter group commit', () => {
  it('puts every batch that arrives during a commit into the next transaction', async () => {
    const { store, commits } = gatedStore();
    const writer = new EventWriter(store);
    const first = writer.write([event('a')]);
    await expect.poll(() => commits.length).toBe(1);
    // Five requests arrive, each in its own turn of the event loop, while the first transaction is still open...
    const later: Promise<unknown>[] = [];
    for (const id of ['b', 'c', 'd', 'e', 'f']) {
      later.push(writer.write([event(id)]));
      await new Promise((r) => setImmediate(r));
    }
    expect(commits).toHaveLength(1);
    commits[0]!.finish();
    await expect(first).resolves.toEqual({ accepted: 1, duplicates: 0 });
    // ...and share the next one.
    await expect.poll(() => commits.length).toBe(2);
    expect(commits[1]!.batches).toHaveLength(5);
    commits[1]!.finish();
    for (const p of later) await expect(p).resolves.toEqual({ accepted: 1, duplicates: 0 });
    expect({ groups: writer.groups, batches: writer.batches }).toEqual({ groups: 2, batches: 6 });
  });

  it('hands batches over without waiting for the commit in progress when the store groups them itself', async () => {
    const { store, commits } = gatedStore();
    Object.assign(store, { groupsEventBatches: true });
    const writer = new EventWriter(store);
    const first = writer.write([event('a')]);
    await expect.poll(() => commits.length).toBe(1);
    const second = writer.write([event('b')]);
    // Handed over while the first commit is still open (the store puts it into its next transaction).
    await expect.poll(() => commits.length).toBe(2);
    expect(commits[1]!.batches).toEqual([[event('b')]]);
    commits[1]!.finish();
    commits[0]!.finish();
    await expect(first).resolves.toEqual({ accepted: 1, duplicates: 0 });
    await expect(second).resolves.toEqual({ accepted: 1, duplicates: 0 });
    await writer.drain();
    expect({ groups: writer.groups, batches: writer.batches, version: writer.version }).toEqual({ groups: 2, batches: 2, version: 2 });
  });

  it('runs as many transactions at once as the store allows; batches arriving while all are busy share the next', async () => {
    const { store, commits } = gatedStore();
    Object.assign(store, { eventTransactions: 2 });
    const writer = new EventWriter(store);
    const first = writer.write([event('a')]);
    await expect.poll(() => commits.length).toBe(1);
    // A second transaction starts while the first is open...
    const second = writer.write([event('b')]);
    await expect.poll(() => commits.length).toBe(2);
    // ...and with both slots busy, later requests wait and go together.
    const later: Promise<unknown>[] = [];
    for (const id of ['c', 'd', 'e']) {
      later.push(writer.write([event(id)]));
      await new Promise((r) => setImmediate(r));
    }
    expect(commits).toHaveLength(2);
    commits[1]!.finish();
    await expect(second).resolves.toEqual({ accepted: 1, duplicates: 0 });
    await expect.poll(() => commits.length).toBe(3);
    expect(commits[2]!.batches).toHaveLength(3);
    commits[2]!.finish();
    commits[0]!.finish();
    await expect(first).resolves.toEqual({ accepted: 1, duplicates: 0 });
    for (const p of later) await expect(p).resolves.toEqual({ accepted: 1, duplicates: 0 });
    await writer.drain();
    expect({ groups: writer.groups, batches: writer.batches }).toEqual({ groups: 3, batches: 5 });
  });

  it('rejects every batch of a failed transaction and keeps going', async () => {
    let calls = 0;
    const store = {
      insertEventBatches: (batches: StoredEvent[][]) =>
        ++calls === 1
          ? Promise.reject(new Error('database unavailable'))
          : Promise.resolve(batches.map((b) => ({ accepted: b.length, duplicates: 0 }))),
    } as unknown as Store;
    const writer = new EventWriter(store);
    await expect(writer.write([event('a')])).rejects.toThrow('database unavailable');
    await expect(writer.write([event('b')])).resolves.toEqual({ accepted: 1, duplicates: 0 });
    await writer.drain();
  });
});
