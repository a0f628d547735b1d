import {
  applyPatch,
  compileConfig,
  emptyConfig,
  type CompiledConfig,
  type ConfigDocument,
  type ConfigExperiment,
  type ConfigPatch,
  type Flag,
  type Segment,
} from '@switchyard/core';
import type { ResourceRow, Store } from '../store/types';
import { configFlagIn } from './flag-spec';

/** Statuses whose experiments are part of the config document. */
export const LIVE_EXPERIMENT_STATUSES: ReadonlySet<string> = new Set(['RUNNING', 'PAUSED']);

/** The part of a stored experiment the config document carries, and nothing else. */
export function toConfigExperiment(data: Record<string, unknown>): ConfigExperiment {
  // Only what evaluation needs: the key is the document's map key; metrics, owner and the rest stay on the server.
  const e: ConfigExperiment = {
    status: data.status as ConfigExperiment['status'],
    variants: (data.variants as ConfigExperiment['variants']).map((v) =>
      v.value === undefined ? { key: v.key, weight: v.weight } : { key: v.key, weight: v.weight, value: v.value },
    ),
    traffic_allocation: (data.traffic_allocation as number | undefined) ?? 100,
    bucket_by: (data.bucket_by as string | undefined) ?? 'key',
    salt: (data.salt as string | undefined) ?? (data.key as string),
  };
  if (data.targeting !== undefined && data.targeting !== null) e.targeting = data.targeting as NonNullable<ConfigExperiment['targeting']>;
  if (data.namespace !== undefined && data.namespace !== null) e.namespace = data.namespace as NonNullable<ConfigExperiment['namespace']>;
  return e;
}

/** The flag as the document of `environment` carries it: definition plus that environment's state, minus bookkeeping. */
export function toConfigFlag(data: Record<string, unknown>, environment: string): Flag {
  return configFlagIn(data, environment) as unknown as Flag;
}

export function toConfigSegment(data: Record<string, unknown>): Segment {
  const { description: _d, ...segment } = data;
  return segment as unknown as Segment;
}

/** A listener for applied config changes. */
export type ConfigListener = (patch: ConfigPatch, doc: ConfigDocument) => void;

/**
 * The live config document of one environment on this instance: loaded from the store, advanced
 * by each committed patch of that environment, compiled at most once per version (on first use,
 * never per request).
 */
export class ConfigState {
  private doc: ConfigDocument = emptyConfig();
  private compiledCache: CompiledConfig | null = null;
  private readonly listeners = new Set<ConfigListener>();
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    readonly environment: string,
  ) {}

  /** Rebuilds the document from the store (start-up, or catching up after a gap). */
  async load(): Promise<void> {
    const [flags, segments, experiments, version] = await Promise.all([
      this.store.allResources('flag'),
      this.store.allResources('segment'),
      this.store.allResources('experiment', this.environment),
      this.store.configVersion(this.environment),
    ]);
    const doc: ConfigDocument = { schema_version: 1, version, flags: {}, segments: {}, experiments: {} };
    for (const r of flags) doc.flags[r.key] = toConfigFlag(r.data, this.environment);
    for (const r of segments) doc.segments[r.key] = toConfigSegment(r.data);
    for (const r of experiments)
      if (LIVE_EXPERIMENT_STATUSES.has(r.data.status as string)) doc.experiments[r.key] = toConfigExperiment(r.data);
    this.doc = doc;
    this.compiledCache = null;
  }

  get version(): number {
    return this.doc.version;
  }

  get document(): ConfigDocument {
    return this.doc;
  }

  /** The compiled form of the current version, built once. */
  compiled(): CompiledConfig {
    if (this.compiledCache === null || this.compiledCache.version !== this.doc.version) this.compiledCache = compileConfig(this.doc);
    return this.compiledCache;
  }

  /**
   * Applies a committed patch. Patches arrive in version order from this process; one that
   * skips a version (another instance wrote in between) triggers a reload from the store.
   */
  apply(patch: ConfigPatch): Promise<void> {
    // One at a time: a gap reload awaits the store, and an apply slipping in meanwhile would
    // reach SSE clients ahead of the versions the reload replays.
    const run = this.applying.then(() => this.applyNow(patch));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async applyNow(patch: ConfigPatch): Promise<void> {
    if (patch.version <= this.doc.version) return;
    if (patch.version !== this.doc.version + 1) {
      const before = this.doc.version;
      await this.load();
      const missed = await this.store.configLogSince(this.environment, before, 10_000);
      for (const entry of missed) this.emit(entry.patch);
      return;
    }
    this.doc = applyPatch(this.doc, patch);
    this.emit(patch);
  }

  /** The document as it would be after a patch, for save-time reference checks. */
  preview(patch: Omit<ConfigPatch, 'version'>): ConfigDocument {
    return applyPatch(this.doc, { ...patch, version: this.doc.version });
  }

  subscribe(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(patch: ConfigPatch): void {
    for (const l of this.listeners) l(patch, this.doc);
  }
}

/**
 * Maps a stored row to its form in the config document of `environment`, or `null` when it is
 * not in that document.
 */
export function configFormOf(row: ResourceRow, environment: string): Flag | Segment | ConfigExperiment | null {
  if (row.kind === 'flag') return toConfigFlag(row.data, environment);
  if (row.kind === 'segment') return toConfigSegment(row.data);
  if (row.kind !== 'experiment' || row.environment !== environment) return null;
  return LIVE_EXPERIMENT_STATUSES.has(row.data.status as string) ? toConfigExperiment(row.data) : null;
}
