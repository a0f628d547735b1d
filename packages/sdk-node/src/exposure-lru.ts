/**
 * Remembers which (experiment, unit) pairs already produced an exposure, so a unit evaluated a
 * million times is exposed once. Bounded: past `capacity` pairs the least recently used one is
 * forgotten (a forgotten pair exposes again, which the analysis tolerates: it counts units).
 *
 * This runs on every evaluation of an experiment, so a hit must cost one hash lookup and nothing
 * else. Each experiment has a `Map` from unit to the "generation" at which the pair was last
 * (re)inserted; Maps iterate in insertion order, so each Map is its own oldest-first queue.
 * A hit on a pair from the older half of the window (more than `capacity / 2` insertions ago) is
 * re-inserted at the young end; a hit on a younger pair changes nothing. Recency is therefore
 * tracked to within half the capacity: a pair seen at least once every `capacity / 2` insertions
 * is never evicted. A strict LRU would relink a list node on every hit, touching memory far from
 * the lookup, for no practical gain here. Lookups use the caller's own strings (no key
 * concatenation, so nothing is built or hashed beyond the lookup itself).
 *
 * @example
 * ```ts
 * const seen = new ExposureLru(50_000);
 * if (seen.add('checkout-exp', 'user-1')) enqueueExposure();
 * ```
 */
export class ExposureLru {
  private readonly byExperiment = new Map<string, Map<string, number>>();
  /** Incremented on every insertion; a pair's value is the generation it was inserted at. */
  private generation = 0;
  private count = 0;
  private readonly refreshWindow: number;
  /** The last experiment looked up: evaluation loops usually ask about one experiment in a row. */
  private lastExperiment: string | null = null;
  private lastUnits: Map<string, number> | undefined = undefined;

  constructor(readonly capacity: number) {
    this.refreshWindow = Math.max(1, Math.floor(capacity / 2));
  }

  get size(): number {
    return this.count;
  }

  /** Records a sighting; `true` when the pair was not remembered (send an exposure). */
  add(experiment: string, unit: string): boolean {
    let units = experiment === this.lastExperiment ? this.lastUnits : this.byExperiment.get(experiment);
    if (units !== undefined) {
      const gen = units.get(unit);
      if (gen !== undefined) {
        if (gen < this.generation - this.refreshWindow) {
          // Older half: move it to the young end of its queue.
          units.delete(unit);
          units.set(unit, this.generation++);
        }
        this.lastExperiment = experiment;
        this.lastUnits = units;
        return false;
      }
    } else {
      units = new Map();
      this.byExperiment.set(experiment, units);
    }
    this.lastExperiment = experiment;
    this.lastUnits = units;
    units.set(unit, this.generation++);
    if (++this.count > this.capacity) this.evict();
    return true;
  }

  has(experiment: string, unit: string): boolean {
    return this.byExperiment.get(experiment)?.has(unit) === true;
  }

  clear(): void {
    this.byExperiment.clear();
    this.lastExperiment = null;
    this.lastUnits = undefined;
    this.count = 0;
  }

  /** Drops the globally oldest pair: the oldest head among the experiments' queues. */
  private evict(): void {
    let oldestUnits: Map<string, number> | undefined;
    let oldestExperiment = '';
    let oldestUnit = '';
    let oldestGen = Infinity;
    for (const [experiment, units] of this.byExperiment) {
      for (const [unit, gen] of units) {
        if (gen < oldestGen) {
          oldestGen = gen;
          oldestUnits = units;
          oldestExperiment = experiment;
          oldestUnit = unit;
        }
        break; // the head is the oldest of this queue
      }
    }
    if (oldestUnits === undefined) return;
    oldestUnits.delete(oldestUnit);
    this.count--;
    if (oldestUnits.size === 0) {
      this.byExperiment.delete(oldestExperiment);
      if (this.lastUnits === oldestUnits) {
        this.lastExperiment = null;
        this.lastUnits = undefined;
      }
    }
  }
}
