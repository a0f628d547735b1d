import type { ConfigDocument } from './types';
import type { ConfigPatch } from './patch';
import { ConditionCompiler, type Predicate } from './condition';
import { CompiledFlag, type CompiledEntry } from './flag';
import { CompiledExperiment } from './experiment';
import { CoreError } from './errors';

/**
 * A config document compiled into closures: evaluating is a map lookup and a few calls.
 * Build one per config document with {@link compileConfig}, share it, and move it to the next
 * version with {@link patchCompiledConfig}.
 */
export interface CompiledConfig {
  readonly version: number;
  readonly document: ConfigDocument;
  readonly entries: ReadonlyMap<string, CompiledEntry>;
}

/**
 * What an incremental update needs besides the public fields. A token names what a reference
 * points at: `'s' + key` a segment, `'k' + key` the flag and the experiment at a key (a
 * prerequisite resolves to the flag there, else the experiment; both are rebuilt together).
 */
interface State {
  version: number;
  document: ConfigDocument;
  entries: Map<string, CompiledEntry>;
  /** Compiled segments by key. */
  segments: Map<string, Predicate>;
  /** Compiled experiments by key, also those whose key a flag shares (flags may serve them). */
  experiments: Map<string, CompiledExperiment>;
  /** The tokens each compiled segment, or flag and experiment key, refers to directly. */
  refs: Map<string, string[]>;
}

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Links the prerequisites of `flags` and marks each that reaches a prerequisite cycle (it then
 * always fails them), so evaluation cannot recurse forever. Flags not in `flags` are settled:
 * nothing they reach changed, so neither did their mark.
 */
function linkPrerequisites(flags: Map<string, CompiledFlag>, entries: Map<string, CompiledEntry>): void {
  const state = new Map<CompiledFlag, 1 | 2>(); // 1 = being visited, 2 = done
  const visit = (f: CompiledFlag): boolean => {
    const s = state.get(f);
    // Meeting a flag that is being visited closes a cycle through everything visited since.
    if (s === 1) return true;
    if (s === 2 || flags.get(f.key) !== f) return f.cyclic;
    state.set(f, 1);
    for (const p of f.prerequisites) {
      const next = (p.entry = entries.get(p.key));
      if (next instanceof CompiledFlag && visit(next)) f.cyclic = true;
    }
    state.set(f, 2);
    return f.cyclic;
  };
  for (const f of flags.values()) visit(f);
}

/**
 * Applies a patch to the state. Everything is compiled before anything is changed, so a patch
 * that does not compile leaves the state as it was.
 */
function update(s: State, patch: ConfigPatch, changed?: Set<string>): void {
  const doc = s.document;
  const parts = [
    ['k', patch.flags, doc.flags],
    ['k', patch.experiments, doc.experiments],
    ['s', patch.segments, doc.segments],
  ] as const;
  // `__proto__` is not a valid key; skipping it keeps a hostile patch off the maps' prototypes.
  const keysOf = (o: object | undefined) => Object.keys(o ?? {}).filter((k) => k !== '__proto__');
  const dirty = new Set<string>();
  for (const [t, changes] of parts) for (const k of keysOf(changes)) dirty.add(t + k);
  // What refers to something changed changed too, up to a fixed point (dependency chains are short).
  for (let grew = true; grew;) {
    grew = false;
    for (const [t, refs] of s.refs) if (!dirty.has(t) && refs.some((r) => dirty.has(r))) grew = !!dirty.add(t);
  }
  // A resource as the patched document has it.
  const source = <T>(changes: Record<string, T | null> | undefined, current: Record<string, T>, key: string): T | null | undefined =>
    changes && has(changes, key) ? changes[key] : has(current, key) ? current[key] : undefined;
  const conditions = new ConditionCompiler(
    (key) => source(patch.segments, doc.segments, key),
    (key) => (dirty.has('s' + key) ? undefined : s.segments.get(key)),
  );
  const built: [string, CompiledEntry | undefined, string[]][] = [];
  const flags = new Map<string, CompiledFlag>();
  // Experiments first: a flag may serve one (and then depends on it).
  const exps = new Map<string, CompiledExperiment | undefined>();
  const expRefs = new Map<string, string[]>();
  for (const t of dirty) {
    const key = t.slice(1);
    // Every segment is compiled, referenced or not, so its references are known when it changes.
    if (t[0] === 's') conditions.segment(key);
    else {
      const exp = source(patch.experiments, doc.experiments, key);
      expRefs.set(key, (conditions.refs = []));
      exps.set(key, exp ? new CompiledExperiment({ ...exp, key }, conditions) : undefined);
    }
  }
  const served = {
    get: (key: string) => {
      conditions.refs.push('k' + key);
      return exps.has(key) ? exps.get(key) : s.experiments.get(key);
    },
  } as ReadonlyMap<string, CompiledExperiment>;
  for (const [key, e] of exps) {
    const refs: string[] = (conditions.refs = expRefs.get(key)!);
    const flag = source(patch.flags, doc.flags, key);
    const f = flag ? new CompiledFlag({ ...flag, key }, conditions, served) : undefined;
    if (f) {
      flags.set(key, f);
      for (const p of f.prerequisites) refs.push('k' + p.key);
    }
    built.push([key, f ?? e, refs]);
  }

  // Everything compiled: now change the state.
  for (const [, changes, current] of parts)
    for (const k of keysOf(changes)) {
      const v = changes![k];
      if (v) (current as Record<string, unknown>)[k] = v;
      else delete current[k];
    }
  doc.version = s.version = patch.version;
  for (const t of dirty)
    if (t[0] === 's') {
      s.segments.delete(t.slice(1));
      s.refs.delete(t);
    }
  for (const [k, p] of conditions.fresh) s.segments.set(k, p);
  for (const [k, r] of conditions.segmentRefs) s.refs.set('s' + k, r);
  for (const [k, e] of exps) {
    if (e) s.experiments.set(k, e);
    else s.experiments.delete(k);
  }
  for (const [key, entry, refs] of built) {
    changed?.add(key);
    if (entry && refs.length) s.refs.set('k' + key, refs);
    else s.refs.delete('k' + key);
    if (entry) s.entries.set(key, entry);
    else s.entries.delete(key);
  }
  linkPrerequisites(flags, s.entries);
}

/**
 * Compiles a config document. Regexes, sets, split bounds and result objects are all built
 * here; nothing is parsed per evaluation. Never uses `eval` or `new Function`, so it runs under a
 * strict Content-Security-Policy and on edge runtimes.
 *
 * The compiled config keeps its own copy of the document's maps (the resources themselves are
 * shared): {@link patchCompiledConfig} updates that copy, never `doc`.
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
    throw new CoreError('INVALID_CONFIG', 'not a config document');
  }
  const version = typeof doc.version === 'number' ? doc.version : 0;
  const s: State = {
    version,
    document: { schema_version: 1, version, flags: {}, segments: {}, experiments: {} },
    entries: new Map(),
    segments: new Map(),
    experiments: new Map(),
    refs: new Map(),
  };
  update(s, { version, flags: doc.flags ?? {}, segments: doc.segments ?? {}, experiments: doc.experiments ?? {} });
  return s;
}

/**
 * Moves a compiled config to the next version by a patch (changed flags, segments and
 * experiments; `null` = deleted), recompiling only what the patch changes and what depends on
 * it: flags and experiments that name a changed segment (directly or through other segments) and
 * flags whose prerequisites changed. The result evaluates exactly like
 * `compileConfig(applyPatch(compiled.document, patch))`, at a cost that does not grow with the
 * size of the config.
 *
 * The update happens **in place**: `compiled` (its `document` included) becomes the new version
 * and is returned. A config not made by {@link compileConfig} is compiled afresh instead, so
 * always use the return value. When a changed resource does not compile, this throws and
 * `compiled` is left as it was.
 *
 * Pass `changed` to collect the flag and experiment keys whose evaluation may differ afterwards.
 *
 * @example
 * ```ts
 * let compiled = compileConfig(doc);
 * const keys = new Set<string>();
 * compiled = patchCompiledConfig(compiled, { version: doc.version + 1, flags: { 'new-checkout': null } }, keys);
 * ```
 */
export function patchCompiledConfig(compiled: CompiledConfig, patch: ConfigPatch, changed?: Set<string>): CompiledConfig {
  const s = (compiled as Partial<State>).refs ? compiled : compileConfig(compiled.document);
  update(s as State, patch, changed);
  return s;
}
