import type { ConfigDocument, ConfigExperiment, Flag, Segment } from './types';

/**
 * What the stream's `patch` event carries: the changed resources by key, `null` for deleted.
 */
export interface ConfigPatch {
  version: number;
  flags?: Record<string, Flag | null>;
  segments?: Record<string, Segment | null>;
  experiments?: Record<string, ConfigExperiment | null>;
}

function merge<T>(base: Record<string, T>, changes: Record<string, T | null> | undefined): Record<string, T> {
  if (changes === undefined) return base;
  const out = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    // Keys cannot start with "_"; refusing this one keeps a hostile patch off the prototype.
    if (key === '__proto__') continue;
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

/**
 * Applies a patch to a document and returns a new document; the input is not modified.
 *
 * @example
 * ```ts
 * const next = applyPatch(doc, { version: 8, flags: { 'old-flag': null } });
 * ```
 */
export function applyPatch(doc: ConfigDocument, patch: ConfigPatch): ConfigDocument {
  return {
    schema_version: 1,
    version: patch.version,
    flags: merge(doc.flags, patch.flags),
    segments: merge(doc.segments, patch.segments),
    experiments: merge(doc.experiments, patch.experiments),
  };
}

/**
 * An empty document at version 0.
 *
 * @example
 * ```ts
 * const compiled = compileConfig(emptyConfig());
 * ```
 */
export function emptyConfig(): ConfigDocument {
  return { schema_version: 1, version: 0, flags: {}, segments: {}, experiments: {} };
}
