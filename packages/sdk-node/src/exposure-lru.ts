/**
 * Remembers which variant each (experiment, unit) pair was last exposed to, so a unit evaluated a
 * million times is exposed once, and exposed again only when its variant changes (a guarded
 * rollout growing its share moves units from control to the new arm: the server must hear of it,
 * or the unit stays counted under control). Bounded, least recently used pairs forgotten first (a forgotten
 * pair exposes again, which the analysis tolerates: it counts units from their first exposure).
 *
 * This runs on every evaluation of an experiment, so a hit must cost one hash lookup and nothing
 * else: no write, no list relinking, no key concatenation (lookups use the caller's own unit
 * string, per experiment). Recency is kept in two generations, an LRU approximation: pairs seen
 * in the current generation are `young`; when `capacity / 2` pairs have entered it, it becomes
 * `old` and the previous old generation is dropped whole. A hit in `old` moves the pair back to
 * `young`. So at most `capacity` pairs are held, and a pair seen at least once every
 * `capacity / 2` new pairs is never forgotten.
 *
 * @example
 * ```ts
 * const seen = new ExposureLru(50_000);
 * if (seen.add('checkout-exp', 'user-1', 'treatment')) enqueueExposure();
 * ```
 */
export class ExposureLru {
  private young = new Map<string, Map<string, string>>();
  private old = new Map<string, Map<string, string>>();
  private youngCount = 0;
  private oldCount = 0;
  private readonly generationSize: number;
  /** The experiment last written to: evaluation loops usually ask about one experiment in a row. */
  private lastExperiment: string | null = null;
  private lastYoung: Map<string, string> | undefined = undefined;

  constructor(readonly capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
  }

  /** Pairs currently remembered. */
  get size(): number {
    return this.youngCount + this.oldCount;
  }

  /** Records a sighting; `true` when the pair was not remembered with this variant (send an exposure). */
  add(experiment: string, unit: string, variant: string): boolean {
    const young = experiment === this.lastExperiment ? this.lastYoung : this.young.get(experiment);
    const seen = young?.get(unit);
    if (seen === variant) return false;
    if (seen !== undefined) {
      // Remembered under another variant: the assignment moved, so this is news.
      young!.set(unit, variant);
      return true;
    }
    return this.miss(experiment, unit, variant, young);
  }

  has(experiment: string, unit: string): boolean {
    return this.young.get(experiment)?.has(unit) === true || this.old.get(experiment)?.has(unit) === true;
  }

  clear(): void {
    this.young = new Map();
    this.old = new Map();
    this.youngCount = this.oldCount = 0;
    this.lastExperiment = null;
    this.lastYoung = undefined;
  }

  /** Not in the young generation: promote from old (still remembered) or remember anew. */
  private miss(experiment: string, unit: string, variant: string, young: Map<string, string> | undefined): boolean {
    if (young === undefined) {
      young = new Map();
      this.young.set(experiment, young);
    }
    this.lastExperiment = experiment;
    this.lastYoung = young;
    const old = this.old.get(experiment);
    const oldVariant = old?.get(unit);
    const remembered = oldVariant === variant;
    if (old !== undefined && oldVariant !== undefined) {
      old.delete(unit);
      this.oldCount--;
    }
    young.set(unit, variant);
    if (++this.youngCount >= this.generationSize) {
      this.old = this.young;
      this.oldCount = this.youngCount;
      this.young = new Map();
      this.youngCount = 0;
      this.lastExperiment = null;
      this.lastYoung = undefined;
    }
    return !remembered;
  }
}
