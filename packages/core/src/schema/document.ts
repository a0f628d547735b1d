import { z } from 'zod';
import type { ConfigDocument, Flag, Serve } from '../types';
import { segmentRefs } from './condition';
import { configExperimentSchema, flagSchema, segmentSchema } from './resources';

/** One problem found in a document: where it is and what is wrong. */
export interface ConfigIssue {
  path: (string | number)[];
  message: string;
}

/** Finds one cycle in a graph given as adjacency lists, returned as the keys along it. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 1);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      const s = state.get(next);
      if (s === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (s === undefined) {
        const found = visit(next);
        if (found !== null) return found;
      }
    }
    stack.pop();
    state.set(node, 2);
    return null;
  };
  for (const node of graph.keys()) {
    if (state.has(node)) continue;
    const found = visit(node);
    if (found !== null) return found;
  }
  return null;
}

type Refs = Pick<ConfigDocument, 'flags' | 'segments' | 'experiments'>;

/**
 * The checks that need the whole document: map keys equal resource keys, flag and experiment
 * keys do not collide, prerequisites and segment references resolve, and neither prerequisites
 * nor segments form a cycle. Run it on the document as it would be after a save.
 *
 * @example
 * ```ts
 * const problems = checkReferences({ flags, segments, experiments });
 * if (problems.length) throw new Error(problems[0].message);
 * ```
 */
export function checkReferences(doc: Refs): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  const refsIn = (cond: unknown, path: (string | number)[]) => {
    for (const s of segmentRefs(cond)) if (!has(doc.segments, s)) issues.push({ path, message: `unknown segment '${s}'` });
  };
  // An experiment a flag serves must name only flag variants. One that is not in the document
  // (a draft, a completed one) enrols nobody, so the flag falls through: nothing to check here.
  const servedExperiment = (flag: Flag, serve: Serve | undefined, path: (string | number)[]) => {
    if (serve === undefined || !('experiment' in serve)) return;
    const exp = has(doc.experiments, serve.experiment) ? doc.experiments[serve.experiment] : undefined;
    if (exp === undefined) return;
    const known = new Set(flag.variants.map((v) => v.key));
    for (const v of exp.variants ?? [])
      if (!known.has(v.key))
        issues.push({ path, message: `experiment '${serve.experiment}' has variant '${v.key}', which is not a variant of this flag` });
  };
  const prereqGraph = new Map<string, string[]>();
  for (const [key, flag] of Object.entries(doc.flags)) {
    if (flag.key !== key) issues.push({ path: ['flags', key, 'key'], message: `key '${flag.key}' does not match its map key '${key}'` });
    if (has(doc.experiments, key)) issues.push({ path: ['flags', key], message: `key '${key}' is already used by an experiment` });
    (flag.prerequisites ?? []).forEach((p, i) => {
      // Own keys only: `constructor`, `toString`... are valid flag keys but also Object.prototype members.
      const target = has(doc.flags, p.flag) ? doc.flags[p.flag] : undefined;
      if (target === undefined) {
        issues.push({ path: ['flags', key, 'prerequisites', i, 'flag'], message: `unknown flag '${p.flag}'` });
        return;
      }
      const known = new Set(target.variants.map((v) => v.key));
      p.variants.forEach((v, j) => {
        if (!known.has(v))
          issues.push({ path: ['flags', key, 'prerequisites', i, 'variants', j], message: `flag '${p.flag}' has no variant '${v}'` });
      });
    });
    prereqGraph.set(
      key,
      (flag.prerequisites ?? []).map((p) => p.flag),
    );
    (flag.rules ?? []).forEach((r, i) => {
      refsIn(r.when, ['flags', key, 'rules', i, 'when']);
      servedExperiment(flag, r.serve, ['flags', key, 'rules', i, 'serve', 'experiment']);
    });
    servedExperiment(flag, flag.default_serve, ['flags', key, 'default_serve', 'experiment']);
  }
  const cycle = findCycle(prereqGraph);
  if (cycle !== null) issues.push({ path: ['flags', cycle[0]!, 'prerequisites'], message: `prerequisite cycle: ${cycle.join(' -> ')}` });
  const segmentGraph = new Map<string, string[]>();
  for (const [key, seg] of Object.entries(doc.segments)) {
    if (seg.key !== key) issues.push({ path: ['segments', key, 'key'], message: `key '${seg.key}' does not match its map key '${key}'` });
    refsIn(seg.when, ['segments', key, 'when']);
    segmentGraph.set(key, [...segmentRefs(seg.when)]);
  }
  const segCycle = findCycle(segmentGraph);
  if (segCycle !== null) issues.push({ path: ['segments', segCycle[0]!, 'when'], message: `segment cycle: ${segCycle.join(' -> ')}` });
  for (const [key, exp] of Object.entries(doc.experiments)) {
    if (exp.key !== undefined && exp.key !== key)
      issues.push({ path: ['experiments', key, 'key'], message: `key '${exp.key}' does not match its map key '${key}'` });
    refsIn(exp.targeting, ['experiments', key, 'targeting']);
  }
  return issues;
}

/**
 * The whole config document, including {@link checkReferences}.
 *
 * @example
 * ```ts
 * const doc = configDocumentSchema.parse(JSON.parse(text));
 * ```
 */
export const configDocumentSchema = z
  .object({
    schema_version: z.literal(1),
    version: z.number().int().min(0),
    flags: z.record(z.string(), flagSchema),
    segments: z.record(z.string(), segmentSchema),
    experiments: z.record(z.string(), configExperimentSchema),
  })
  .superRefine((doc, ctx) => {
    for (const i of checkReferences(doc as ConfigDocument)) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
  })
  .meta({ id: 'ConfigDocument' });

/** The outcome of {@link validateConfig}. */
export type ValidationResult = { ok: true; config: ConfigDocument } | { ok: false; issues: ConfigIssue[] };

/**
 * Validates an untrusted document and lists every problem with its path.
 *
 * @example
 * ```ts
 * const r = validateConfig(json);
 * if (!r.ok) for (const i of r.issues) console.error(`${formatPath(i.path)}: ${i.message}`);
 * ```
 */
export function validateConfig(input: unknown): ValidationResult {
  const r = configDocumentSchema.safeParse(input);
  if (r.success) return { ok: true, config: r.data as ConfigDocument };
  return {
    ok: false,
    issues: r.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message })),
  };
}

/**
 * Joins a path for people: `flags.new-checkout.rules.0.serve`.
 *
 * @example
 * ```ts
 * formatPath(['rules', 0, 'when']); // 'rules.0.when'
 * ```
 */
export function formatPath(path: readonly (string | number)[]): string {
  return path.join('.');
}
