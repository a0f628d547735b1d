import type { CompiledConfig } from '../compile';
import type { ConfigPatch } from '../patch';
import { applyPatch } from '../patch';
import { checkReferences, type ConfigIssue } from './document';
import { segmentRefs } from './condition';

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * A map of the patched document that lists only `keys` but answers lookups of every key: the
 * reference checks then judge a few resources against the whole document without copying it.
 */
function view<T>(keys: ReadonlySet<string>, changes: Record<string, T | null> | undefined, current: Record<string, T>): Record<string, T> {
  const get = (k: string | symbol): T | undefined =>
    typeof k !== 'string' ? undefined : ((changes && has(changes, k) ? changes[k] : has(current, k) ? current[k] : undefined) ?? undefined);
  return new Proxy(
    {},
    {
      ownKeys: () => [...keys].filter((k) => get(k) !== undefined),
      getOwnPropertyDescriptor: (_, k) => {
        const value = get(k);
        return value === undefined ? undefined : { value, enumerable: true, configurable: true, writable: true };
      },
      get: (_, k) => get(k),
      has: (_, k) => get(k) !== undefined,
    },
  );
}

/**
 * {@link checkReferences} of the document `compiled` would hold after `patch`, at a cost that
 * grows with the patch rather than with the document: only the patched resources, those that
 * refer to them directly, and what their prerequisites and segment references reach (for
 * cycles) are judged. The document before the patch is assumed to pass the checks (as every
 * saved document does): problems elsewhere are not reported again.
 *
 * A compiled config not made by `compileConfig` is checked whole.
 *
 * @example
 * ```ts
 * const problems = checkPatchReferences(compiled, { flags: { 'new-checkout': flag } });
 * ```
 */
export function checkPatchReferences(compiled: CompiledConfig, patch: Omit<ConfigPatch, 'version'>): ConfigIssue[] {
  const doc = compiled.document;
  const refs = (compiled as { refs?: unknown }).refs;
  if (!(refs instanceof Map)) return checkReferences(applyPatch(doc, { ...patch, version: doc.version }));
  const tokens = new Set<string>();
  for (const k of Object.keys(patch.flags ?? {})) tokens.add('k' + k);
  for (const k of Object.keys(patch.experiments ?? {})) tokens.add('k' + k);
  for (const k of Object.keys(patch.segments ?? {})) tokens.add('s' + k);
  const keys = new Set<string>(); // flag and experiment keys to judge
  const segments = new Set<string>();
  const add = (t: string) => (t[0] === 's' ? segments : keys).add(t.slice(1));
  for (const t of tokens) add(t);
  // Direct referrers: a deleted or changed resource can break what names it.
  for (const [t, r] of refs as Map<string, string[]>) if (r.some((x) => tokens.has(x))) add(t);
  const flags = view(keys, patch.flags, doc.flags);
  const segs = view(segments, patch.segments, doc.segments);
  // A cycle runs through something patched, but may pass anything its references reach.
  const reach = [...keys];
  for (let i = 0; i < reach.length; i++)
    for (const p of flags[reach[i]!]?.prerequisites ?? [])
      if (!keys.has(p.flag)) {
        keys.add(p.flag);
        reach.push(p.flag);
      }
  const segReach = [...segments];
  for (let i = 0; i < segReach.length; i++)
    for (const s of segmentRefs(segs[segReach[i]!]?.when))
      if (!segments.has(s)) {
        segments.add(s);
        segReach.push(s);
      }
  return checkReferences({ flags, segments: segs, experiments: view(keys, patch.experiments, doc.experiments) });
}
