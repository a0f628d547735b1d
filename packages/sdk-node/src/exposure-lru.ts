interface Node {
  experiment: string;
  unit: string;
  prev: Node | null;
  next: Node | null;
}

/**
 * Remembers which (experiment, unit) pairs already produced an exposure, so a unit evaluated a
 * million times is exposed once. Bounded: past `capacity` pairs the least recently seen is
 * forgotten (a forgotten pair exposes again, which the analysis tolerates: it counts units).
 *
 * Lookups are two `Map.get`s on the caller's own strings (no key concatenation, so no string is
 * built or hashed per evaluation) and a hit is four pointer writes: this sits on the hot path of
 * every experiment evaluation.
 *
 * @example
 * ```ts
 * const seen = new ExposureLru(50_000);
 * if (seen.add('checkout-exp', 'user-1')) enqueueExposure();
 * ```
 */
export class ExposureLru {
  private readonly byExperiment = new Map<string, Map<string, Node>>();
  /** Most recently seen. */
  private head: Node | null = null;
  /** Least recently seen: evicted first. */
  private tail: Node | null = null;
  private count = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.count;
  }

  /** Records a sighting; `true` when the pair was not remembered (send an exposure). */
  add(experiment: string, unit: string): boolean {
    let units = this.byExperiment.get(experiment);
    if (units === undefined) {
      units = new Map();
      this.byExperiment.set(experiment, units);
    } else {
      const node = units.get(unit);
      if (node !== undefined) {
        if (node !== this.head) {
          this.unlink(node);
          this.pushHead(node);
        }
        return false;
      }
    }
    const node: Node = { experiment, unit, prev: null, next: null };
    units.set(unit, node);
    this.pushHead(node);
    if (++this.count > this.capacity) this.evict();
    return true;
  }

  has(experiment: string, unit: string): boolean {
    return this.byExperiment.get(experiment)?.has(unit) === true;
  }

  clear(): void {
    this.byExperiment.clear();
    this.head = this.tail = null;
    this.count = 0;
  }

  private evict(): void {
    const node = this.tail;
    if (node === null) return;
    this.unlink(node);
    const units = this.byExperiment.get(node.experiment);
    if (units !== undefined) {
      units.delete(node.unit);
      if (units.size === 0) this.byExperiment.delete(node.experiment);
    }
    this.count--;
  }

  private unlink(node: Node): void {
    if (node.prev !== null) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = null;
  }

  private pushHead(node: Node): void {
    node.next = this.head;
    if (this.head !== null) this.head.prev = node;
    this.head = node;
    if (this.tail === null) this.tail = node;
  }
}
