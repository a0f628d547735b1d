/**
 * A bounded FIFO. When full, pushing drops the oldest item and counts it: under a long outage
 * memory stays flat and the freshest events survive (they matter most for a running analysis).
 *
 * A ring buffer rather than `Array#shift`, which is O(n) once arrays get large.
 *
 * @example
 * ```ts
 * const q = new BoundedQueue<number>(2);
 * q.push(1); q.push(2); q.push(3); // drops 1
 * q.take(10); // [2, 3]; q.dropped === 1
 * ```
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private start = 0;
  private length = 0;
  /** Items dropped because the queue was full, since creation. */
  dropped = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.length;
  }

  /** Appends; returns the dropped oldest item when the queue was full. */
  push(item: T): T | undefined {
    if (this.length === this.capacity) {
      const old = this.items[this.start];
      this.items[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
      this.dropped++;
      return old;
    }
    this.items[(this.start + this.length) % this.capacity] = item;
    this.length++;
    return undefined;
  }

  /** Removes and returns up to `n` oldest items. */
  take(n: number): T[] {
    const k = Math.min(n, this.length);
    const out = new Array<T>(k);
    for (let i = 0; i < k; i++) {
      const at = (this.start + i) % this.capacity;
      out[i] = this.items[at] as T;
      this.items[at] = undefined; // let the event be collected once sent
    }
    this.start = (this.start + k) % this.capacity;
    this.length -= k;
    return out;
  }

  clear(): number {
    const n = this.length;
    this.take(n);
    return n;
  }
}
