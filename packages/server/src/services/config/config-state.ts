import {
  compileConfig,
  emptyConfig,
  patchCompiledConfig,
  type CompiledConfig,
  type ConfigDocument,
  type ConfigExperiment,
  type ConfigPatch,
  type Flag,
  type Segment,
} from '@switchyard/core';
import { checkPatchReferences, type ConfigIssue } from '@switchyard/core/schema';
import type { ResourceRow, Store } from '../../store/types';
import { configDocumentBytes, patchBytesDelta } from './config-bytes';
import { configFlagIn } from '../domain/flag-spec';

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
  // Marks a guarded rollout's experiment, which SDKs leave out of their every-flag listings.
  if (data.rollout !== undefined && data.rollout !== null) {
    const r = data.rollout as { id: string; flag: string };
    e.rollout = { id: r.id, flag: r.flag };
  }
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
 * The live config document of one environment on this instance: loaded from the store and
 * compiled once, then advanced by each committed patch of that environment, which recompiles
 * only what the patch changes (so a write costs the same at 10 flags and at 10,000).
 */
export class ConfigState {
  private current: CompiledConfig = compileConfig(emptyConfig());
  private currentBytes = configDocumentBytes(this.current.document);
  private readonly listeners = new Set<ConfigListener>();

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
    this.current = compileConfig(doc);
    this.currentBytes = configDocumentBytes(doc);
  }

  get version(): number {
    return this.current.version;
  }

  /** The current document. It is updated in place by each patch: serialize it, do not keep it. */
  get document(): ConfigDocument {
    return this.current.document;
  }

  /**
   * The document's size in JSON bytes (within a few bytes of its serialization), kept as a
   * running total that each patch advances: size limits are checked on every write without
   * walking every flag.
   */
  get bytes(): number {
    return this.currentBytes;
  }

  /** The compiled form of the current version. */
  compiled(): CompiledConfig {
    return this.current;
  }

  /**
   * Applies a committed patch; one this document already has is ignored, one that skips a
   * version triggers a reload from the store. Callers run one at a time (the config pipeline's
   * queue): a gap reload awaits the store, and an apply slipping in meanwhile would reach SSE
   * clients ahead of the versions the reload replays.
   */
  async apply(patch: ConfigPatch): Promise<void> {
    const version = this.current.version;
    if (patch.version <= version) return;
    if (patch.version !== version + 1) {
      await this.load();
      const missed = await this.store.configLogSince(this.environment, version, 10_000);
      for (const entry of missed) this.emit(entry.patch);
      return;
    }
    try {
      // Measured before the patch: it may update the document in place.
      const delta = patchBytesDelta(this.current.document, patch);
      this.current = patchCompiledConfig(this.current, patch);
      this.currentBytes += delta;
    } catch {
      // Saved patches pass the schema, so this is a damaged log entry: the rows are the truth.
      await this.load();
    }
    this.emit(patch);
  }

  /**
   * The reference problems the document would have after a patch (save-time checks): only what
   * the patch touches is judged, not the whole document.
   */
  referenceIssues(patch: Omit<ConfigPatch, 'version'>): ConfigIssue[] {
    return checkPatchReferences(this.current, patch);
  }

  subscribe(listener: ConfigListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(patch: ConfigPatch): void {
    for (const l of this.listeners) l(patch, this.current.document);
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
