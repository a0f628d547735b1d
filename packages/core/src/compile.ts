import type { ConfigDocument } from './types';
import { ConditionCompiler } from './condition';
import { CompiledFlag, type CompiledEntry } from './flag';
import { CompiledExperiment } from './experiment';
import { CoreError } from './errors';

/**
 * A config document compiled into closures: evaluating is a map lookup and a few calls.
 * Build one per config version with {@link compileConfig} and share it.
 */
export interface CompiledConfig {
  readonly version: number;
  readonly document: ConfigDocument;
  readonly entries: ReadonlyMap<string, CompiledEntry>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Marks every flag that can reach itself through prerequisites, so evaluation cannot recurse forever. */
function linkPrerequisites(flags: Map<string, CompiledFlag>, entries: Map<string, CompiledEntry>): void {
  for (const f of flags.values()) for (const p of f.prerequisites) p.entry = entries.get(p.key);
  const state = new Map<string, 1 | 2>(); // 1 = on the DFS stack, 2 = finished
  const visit = (f: CompiledFlag, stack: CompiledFlag[]): void => {
    state.set(f.key, 1);
    stack.push(f);
    for (const p of f.prerequisites) {
      const next = flags.get(p.key);
      if (next === undefined) continue;
      const s = state.get(next.key);
      if (s === 1) {
        for (let i = stack.indexOf(next); i < stack.length; i++) stack[i]!.cyclic = true;
      } else if (s === undefined) {
        visit(next, stack);
      }
      if (next.cyclic && f.prerequisites.length > 0) f.cyclic = true;
    }
    stack.pop();
    state.set(f.key, 2);
  };
  for (const f of flags.values()) if (!state.has(f.key)) visit(f, []);
}

/**
 * Compiles a config document once per version. Regexes, sets, split bounds and result objects
 * are all built here; nothing is parsed per evaluation. Never uses `eval` or `new Function`,
 * so it runs under a strict Content-Security-Policy and on edge runtimes.
 *
 * Validate untrusted documents with `@switchyard/core/schema` first: this only throws a
 * {@link CoreError} when the input is not a config document at all.
 *
 * @example
 * ```ts
 * const compiled = compileConfig(doc);
 * evaluate(compiled, 'new-checkout', { key: 'user-1' }, false).value;
 * ```
 */
export function compileConfig(doc: ConfigDocument): CompiledConfig {
  if (!isRecord(doc) || !isRecord(doc.flags ?? {}) || !isRecord(doc.segments ?? {}) || !isRecord(doc.experiments ?? {})) {
    throw new CoreError('INVALID_CONFIG', 'config document must be an object with flags, segments and experiments objects');
  }
  const conditions = new ConditionCompiler(doc.segments ?? {});
  const entries = new Map<string, CompiledEntry>();
  const flags = new Map<string, CompiledFlag>();
  // Experiments first: a flag may serve one.
  const experiments = new Map<string, CompiledExperiment>();
  for (const [key, exp] of Object.entries(doc.experiments ?? {})) experiments.set(key, new CompiledExperiment({ ...exp, key }, conditions));
  for (const [key, flag] of Object.entries(doc.flags ?? {})) {
    const compiled = new CompiledFlag({ ...flag, key }, conditions, experiments);
    flags.set(key, compiled);
    entries.set(key, compiled);
  }
  // Keys are one namespace; the save-time checks reject collisions, a flag wins otherwise.
  for (const [key, exp] of experiments) if (!entries.has(key)) entries.set(key, exp);
  linkPrerequisites(flags, entries);
  return { version: typeof doc.version === 'number' ? doc.version : 0, document: doc, entries };
}
