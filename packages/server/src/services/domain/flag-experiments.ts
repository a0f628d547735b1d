import { ApiError, type ErrorDetail } from '../../errors';
import type { ResourceRow } from '../../store/types';
import type { ServerContext } from '../context';
import { stateIn, type FlagState } from './flag-spec';

/** One place a flag's state serves an experiment: the field path inside the state and the key. */
export interface ExperimentServe {
  path: string;
  experiment: string;
}

const experimentOf = (serve: unknown): string | null => {
  const e = (serve as { experiment?: unknown } | null | undefined)?.experiment;
  return typeof e === 'string' ? e : null;
};

/**
 * Every `{"experiment": key}` serve in one environment's state of a flag, rules first.
 *
 * @example
 * ```ts
 * experimentServes({ rules: [{ id: 'r', serve: { experiment: 'exp' } }] });
 * // [{ path: 'rules.0.serve.experiment', experiment: 'exp' }]
 * ```
 */
export function experimentServes(state: FlagState): ExperimentServe[] {
  const out: ExperimentServe[] = [];
  const rules = Array.isArray(state.rules) ? (state.rules as { serve?: unknown }[]) : [];
  rules.forEach((r, i) => {
    const e = experimentOf(r?.serve);
    if (e !== null) out.push({ path: `rules.${i}.serve.experiment`, experiment: e });
  });
  const d = experimentOf(state.default_serve);
  if (d !== null) out.push({ path: 'default_serve.experiment', experiment: d });
  return out;
}

/**
 * The save-time check of a flag that serves experiments: in every environment, each experiment
 * it serves exists there (and is not archived) and every variant key of it is a flag variant.
 * Problems of the request environment are reported at the top level, others under
 * `environments.<env>.`; throws one 400 listing all of them.
 */
export async function checkServedExperiments(
  ctx: ServerContext,
  requestEnvironment: string,
  data: Record<string, unknown>,
  environments: readonly string[],
): Promise<void> {
  const problems: ErrorDetail[] = [];
  const flagVariants = new Set(((data.variants as { key: string }[] | undefined) ?? []).map((v) => v.key));
  for (const env of environments) {
    for (const s of experimentServes(stateIn(data, env))) {
      const path = env === requestEnvironment ? s.path : `environments.${env}.${s.path}`;
      const row = await ctx.store.getResource('experiment', s.experiment, env);
      if (row === null || row.data.status === 'ARCHIVED') {
        problems.push({ path, message: `unknown experiment '${s.experiment}' in environment '${env}'` });
        continue;
      }
      const missing = ((row.data.variants as { key: string }[] | undefined) ?? []).map((v) => v.key).filter((k) => !flagVariants.has(k));
      if (missing.length > 0)
        problems.push({
          path,
          message: `experiment '${s.experiment}' has variants ${missing.map((k) => `'${k}'`).join(', ')} that are not variants of this flag`,
        });
    }
  }
  if (problems.length > 0) throw new ApiError('VALIDATION_ERROR', 'the feature flag serves an experiment it cannot', problems);
}

/** The flags whose state in `environment` serves the experiment `key`, with where. */
export async function flagsServing(ctx: ServerContext, environment: string, key: string): Promise<{ flag: ResourceRow; path: string }[]> {
  const out: { flag: ResourceRow; path: string }[] = [];
  for (const flag of await ctx.store.allResources('flag')) {
    for (const s of experimentServes(stateIn(flag.data, environment))) if (s.experiment === key) out.push({ flag, path: s.path });
  }
  return out;
}

/**
 * Refuses to delete or archive an experiment a flag still serves (`409 CONFLICT` naming each
 * place): the flag would silently stop splitting. Completing it is allowed; the flag then falls
 * through to its next rule.
 */
export async function assertNotServed(ctx: ServerContext, experiment: ResourceRow, what: 'delete' | 'archive'): Promise<void> {
  if (experiment.environment === null) return;
  const serving = await flagsServing(ctx, experiment.environment, experiment.key);
  if (serving.length === 0) return;
  throw new ApiError(
    'CONFLICT',
    `cannot ${what} experiment '${experiment.key}': feature flags still serve it in environment '${experiment.environment}'`,
    serving.map(({ flag, path }) => ({
      path: `feature-flags.${flag.key}.environments.${experiment.environment}.${path}`,
      message: `flag '${flag.key}' serves this experiment; point it elsewhere first`,
    })),
  );
}
