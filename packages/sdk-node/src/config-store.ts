import {
  compileConfig,
  patchCompiledConfig,
  type CompiledConfig,
  type ConfigDocument,
  type ConfigExperiment,
  type ConfigPatch,
} from '@switchyard/core';
import { changedKeys } from './changed-keys';

/**
 * Where the current config came from.
 *
 * @example
 * ```ts
 * if (client.stats().configSource === 'bootstrap') log.warn('serving the bootstrap file, not live flags');
 * ```
 */
export type ConfigSource = 'bootstrap' | 'server';

/**
 * What a `'change'` listener receives.
 *
 * @example
 * ```ts
 * client.on('change', ({ version, previousVersion, keys }) => log.info({ version, previousVersion, keys }, 'flags changed'));
 * ```
 */
export interface ConfigChange {
  /** The new config version. */
  version: number;
  /** The version before, or `null` when the first config arrived. */
  previousVersion: number | null;
  /** Flag and experiment keys whose evaluation may have changed (see docs/sdk-node.md). */
  keys: string[];
  source: ConfigSource;
}

/** The outcome of offering a document or patch to the store. */
export type ApplyResult =
  | { status: 'applied'; change: ConfigChange }
  /** Not newer than what is held: a replayed or duplicate version. */
  | { status: 'ignored'; version: number }
  /** The patch does not follow the held version: fetch the whole document. */
  | { status: 'gap'; version: number; expected: number | null }
  /** Malformed or uncompilable: the held config is kept. */
  | { status: 'invalid'; error: string };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isVersion = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function recordOrEmpty(v: unknown, name: string, allowNull: boolean): Record<string, never> | string {
  if (v === undefined) return {};
  if (!isRecord(v)) return `${name} must be an object`;
  for (const [k, x] of Object.entries(v))
    if (!(isRecord(x) || (allowNull && x === null))) return `${name}.${k} must be an object${allowNull ? ' or null' : ''}`;
  return v as Record<string, never>;
}

/** Checks the document's outline (not every field: compiling tolerates the rest) and fills empty maps. */
export function asDocument(raw: unknown): ConfigDocument | string {
  if (!isRecord(raw)) return 'a config document must be a JSON object';
  if (raw.schema_version !== 1) return `unsupported schema_version ${JSON.stringify(raw.schema_version)} (this SDK reads 1)`;
  if (!isVersion(raw.version)) return 'version must be a non-negative integer';
  const parts: Record<string, Record<string, never>> = {};
  for (const name of ['flags', 'segments', 'experiments'] as const) {
    const r = recordOrEmpty(raw[name], name, false);
    if (typeof r === 'string') return r;
    parts[name] = r;
  }
  return { schema_version: 1, version: raw.version, flags: parts.flags!, segments: parts.segments!, experiments: parts.experiments! };
}

/** Checks a patch's outline. */
export function asPatch(raw: unknown): ConfigPatch | string {
  if (!isRecord(raw)) return 'a patch must be a JSON object';
  if (!isVersion(raw.version)) return 'patch version must be a non-negative integer';
  const patch: ConfigPatch = { version: raw.version };
  for (const name of ['flags', 'segments', 'experiments'] as const) {
    if (raw[name] === undefined) continue;
    const r = recordOrEmpty(raw[name], name, true);
    if (typeof r === 'string') return r;
    patch[name] = r;
  }
  return patch;
}

/** The attribute an experiment is bucketed by when it is not `key`, else `null`. */
const customUnitOf = (e: ConfigExperiment | null | undefined): string | null =>
  typeof e?.bucket_by === 'string' && e.bucket_by !== '' && e.bucket_by !== 'key' ? e.bucket_by : null;

/** Per experiment bucketed by another attribute than `key`, that attribute. */
function unitAttributes(doc: ConfigDocument): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, e] of Object.entries(doc.experiments)) {
    const unit = customUnitOf(e);
    if (unit !== null) out.set(k, unit);
  }
  return out;
}

/**
 * The current config: the document, its compiled form (built once per version, shared by every
 * evaluation) and, per experiment, the context attribute that identifies its unit (for
 * exposures). Versions only move forward once a server config is held.
 */
export class ConfigStore {
  /** Read on every evaluation, so a plain field rather than a getter chain. */
  compiled: CompiledConfig | null = null;
  private doc: ConfigDocument | null = null;
  private src: ConfigSource | null = null;
  private unitAttrs = new Map<string, string>();

  get version(): number | null {
    return this.doc?.version ?? null;
  }

  get document(): ConfigDocument | null {
    return this.doc;
  }

  get source(): ConfigSource | null {
    return this.src;
  }

  /** True when the held config came from the server (so its version can be resumed from). */
  get fromServer(): boolean {
    return this.src === 'server';
  }

  /** The attribute naming an experiment's unit (`bucket_by`, default `key`). */
  unitAttribute(experimentKey: string): string {
    // Most configs bucket every experiment by `key`: then no lookup at all.
    const attrs = this.unitAttrs;
    return attrs.size === 0 ? 'key' : (attrs.get(experimentKey) ?? 'key');
  }

  /**
   * Offers a whole document. A server document replaces a bootstrap one whatever the versions
   * (they are different lineages); after that, only newer versions are taken.
   */
  replace(raw: unknown, source: ConfigSource): ApplyResult {
    const doc = asDocument(raw);
    if (typeof doc === 'string') return { status: 'invalid', error: doc };
    const prev = this.doc;
    if (prev !== null && this.src === 'server' && doc.version <= prev.version) return { status: 'ignored', version: doc.version };
    return this.install(doc, source, prev === null ? [] : changedKeys(prev, doc));
  }

  /** Offers a patch: it must be exactly the next version of a server document. */
  patch(raw: unknown): ApplyResult {
    const patch = asPatch(raw);
    if (typeof patch === 'string') return { status: 'invalid', error: patch };
    const prev = this.doc;
    if (prev === null || this.src !== 'server') return { status: 'gap', version: patch.version, expected: null };
    if (patch.version <= prev.version) return { status: 'ignored', version: patch.version };
    if (patch.version !== prev.version + 1) return { status: 'gap', version: patch.version, expected: prev.version + 1 };
    // Recompiles only what the patch changes and what depends on it, in place: a one-flag
    // change costs the same at 10 flags and at 10,000.
    const keys = new Set<string>();
    const previousVersion = prev.version; // prev is the compiled config's document: updated in place below
    try {
      this.compiled = patchCompiledConfig(this.compiled!, patch, keys);
    } catch (err) {
      return { status: 'invalid', error: `config version ${patch.version} does not compile: ${(err as Error).message}` };
    }
    const doc = this.compiled.document;
    this.doc = doc;
    // Only the experiments the patch names can have changed their unit: a one-experiment
    // change costs the same at 10 experiments and at 10,000.
    for (const k of Object.keys(patch.experiments ?? {})) {
      const unit = customUnitOf(doc.experiments[k]);
      if (unit === null) this.unitAttrs.delete(k);
      else this.unitAttrs.set(k, unit);
    }
    return { status: 'applied', change: { version: doc.version, previousVersion, keys: [...keys].sort(), source: 'server' } };
  }

  private install(doc: ConfigDocument, source: ConfigSource, keys: string[]): ApplyResult {
    let compiled: CompiledConfig;
    try {
      compiled = compileConfig(doc);
    } catch (err) {
      return { status: 'invalid', error: `config version ${doc.version} does not compile: ${(err as Error).message}` };
    }
    const previousVersion = this.doc?.version ?? null;
    const unitAttrs = unitAttributes(compiled.document);
    this.doc = compiled.document;
    this.src = source;
    this.compiled = compiled;
    this.unitAttrs = unitAttrs;
    return { status: 'applied', change: { version: doc.version, previousVersion, keys, source } };
  }
}
