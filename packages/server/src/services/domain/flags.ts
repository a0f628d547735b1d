import { flagSchema } from '@switchyard/core/schema';
import { ApiError, invalid, notFound, type ErrorDetail } from '../../errors';
import { zodDetails } from '../../http/route';
import type { ResourceRow } from '../../store/types';
import type { RequestOrigin, ServerContext } from '../context';
import {
  configuredEnvironments,
  definitionOf,
  flagAttributes,
  flagSpec,
  normalizeDefinition,
  normalizeState,
  projectFlag,
  stateFieldsOf,
  stateIn,
  type FlagState,
} from './flag-spec';
import { READ_ONLY_FIELDS } from './kind-spec';
import { ResourceService } from './resource-service';
import { assertUnprotected, environmentKeys } from './environment-guards';
import { checkServedExperiments } from './flag-experiments';
import { sameJson } from './same-json';

function withoutReadOnly(input: Record<string, unknown>): Record<string, unknown> {
  const out = { ...input };
  for (const f of READ_ONLY_FIELDS) delete out[f];
  return out;
}

/**
 * The state each environment is given by a write: the top-level state fields go to the request
 * environment, `environments.<env>` to each named one. Unknown environments, and the request
 * environment named both ways, are 400s naming the field.
 */
function givenStates(origin: RequestOrigin, input: Record<string, unknown>, environments: readonly string[]): Map<string, FlagState> {
  const out = new Map<string, FlagState>();
  const problems: ErrorDetail[] = [];
  const top = stateFieldsOf(input);
  const named = (input.environments ?? {}) as Record<string, FlagState>;
  for (const env of Object.keys(named)) {
    if (!environments.includes(env)) problems.push({ path: `environments.${env}`, message: `unknown environment '${env}'` });
  }
  // The same state both ways (a GET body sent back) is accepted; different values are ambiguous.
  const mine = named[origin.environment];
  const conflicting = mine !== undefined && Object.entries(top).some(([k, v]) => !sameJson(v, mine[k]));
  if (conflicting) {
    problems.push({
      path: `environments.${origin.environment}`,
      message: `the request environment '${origin.environment}' is given different state at the top level and under environments; use one`,
    });
  }
  if (problems.length > 0) throw invalid('the feature flag names environments it cannot', problems);
  if (Object.keys(top).length > 0) out.set(origin.environment, top);
  for (const [env, state] of Object.entries(named)) out.set(env, state);
  return out;
}

/**
 * Feature flags: one definition shared by every environment plus per-environment state. Every
 * environment's projection must pass core's flag schema; problems in the request environment are
 * reported at the top level, those of another environment under `environments.<env>`.
 */
export class FlagService extends ResourceService {
  constructor(ctx: ServerContext) {
    super(flagSpec, ctx);
  }

  protected override auditView(data: Record<string, unknown> | null, origin: RequestOrigin, environments: readonly string[]): unknown {
    return data === null ? null : flagAttributes(data, origin.environment, environments);
  }

  /** Validates every environment's projection; throws one 400 listing every problem. */
  private validateFlag(origin: RequestOrigin, data: Record<string, unknown>, environments: readonly string[]): Record<string, unknown> {
    // Only a boolean flag gets variants by default; without this one problem, the missing list
    // also fails every environment's default_serve and buries the one thing to fix.
    if (data.variants === undefined && (data.type === 'string' || data.type === 'number' || data.type === 'json'))
      throw new ApiError('VALIDATION_ERROR', 'the feature flag is invalid', [
        {
          path: 'variants',
          message: `a ${data.type} flag needs its variants ([{"key", "value"}, ...]); only a boolean flag gets on/off by default`,
        },
      ]);
    const problems: ErrorDetail[] = [];
    const order = [origin.environment, ...environments.filter((e) => e !== origin.environment)];
    for (const env of order) {
      const parsed = flagSchema.safeParse(projectFlag(data, env));
      if (parsed.success) continue;
      for (const d of zodDetails(parsed.error)) {
        if (env === origin.environment) problems.push(d);
        // The definition's own problems are already reported once, at the top level.
        else if (d.path !== undefined && isState(d.path)) problems.push({ ...d, path: `environments.${env}.${d.path}` });
      }
    }
    if (problems.length > 0) throw new ApiError('VALIDATION_ERROR', 'the feature flag is invalid', problems);
    return data;
  }

  protected override async buildNew(
    origin: RequestOrigin,
    input: Record<string, unknown>,
    environments: readonly string[],
  ): Promise<Record<string, unknown>> {
    const clean = withoutReadOnly(input);
    const given = givenStates(origin, clean, environments);
    const definition = normalizeDefinition(definitionOf(clean));
    const states: Record<string, FlagState> = {};
    for (const env of environments) states[env] = normalizeState(given.get(env) ?? {}, definition);
    return this.checked(origin, this.validateFlag(origin, { ...definition, environments: states }, environments), environments);
  }

  /** Experiments the flag serves must exist in each environment and name only flag variants. */
  private async checked(origin: RequestOrigin, data: Record<string, unknown>, environments: readonly string[]) {
    await checkServedExperiments(this.ctx, origin.environment, data, environments);
    return data;
  }

  protected override async buildUpdate(
    origin: RequestOrigin,
    row: ResourceRow,
    input: Record<string, unknown>,
    mode: 'patch' | 'put',
    environments: readonly string[],
  ): Promise<Record<string, unknown>> {
    const clean = withoutReadOnly(input);
    const given = givenStates(origin, clean, environments);
    const definition = normalizeDefinition(
      mode === 'patch' ? { ...definitionOf(row.data), ...definitionOf(clean), key: row.key } : { ...definitionOf(clean), key: row.key },
    );
    const states: Record<string, FlagState> = {};
    for (const env of environments) {
      const current = stateIn(row.data, env);
      const g = given.get(env);
      // PUT replaces the whole resource: every environment gets what the body gives it (the
      // request environment the top level), defaults re-applied, and an environment it does not
      // mention its defaults. PATCH replaces only the fields given; environments not named keep their state.
      if (g === undefined) states[env] = mode === 'put' ? normalizeState({}, definition) : current;
      else states[env] = normalizeState(mode === 'patch' ? { ...current, ...g } : g, definition);
    }
    return this.checked(origin, this.validateFlag(origin, { ...definition, environments: states }, environments), environments);
  }

  protected override changedIn(before: ResourceRow | null, after: ResourceRow | null, environment: string): boolean {
    if (before === null || after === null) return true;
    // A definition change reaches every environment; a state change only its own.
    if (!sameJson(definitionOf(before.data), definitionOf(after.data))) return true;
    return !sameJson(stateIn(before.data, environment), stateIn(after.data, environment));
  }

  protected override async assertChange(
    origin: RequestOrigin,
    before: ResourceRow | null,
    after: ResourceRow | null,
    environments: readonly string[],
  ): Promise<void> {
    // State only: the definition (name, variants...) is shared by every environment and not
    // guarded per environment. A new flag touches the environments it is given non-default
    // state in; a deleted one those it has non-default state in.
    const touched =
      before === null || after === null
        ? configuredEnvironments((before ?? after)!.data, environments)
        : environments.filter((e) => !sameJson(stateIn(before.data, e), stateIn(after.data, e)));
    await assertUnprotected(this.ctx, origin, touched, 'change feature flag state');
  }

  /** Changes one environment's state: `PATCH /feature-flags/{key}/environments/{env}`. */
  async updateEnvironment(origin: RequestOrigin, idOrKey: string, environment: string, state: FlagState): Promise<ResourceRow> {
    const environments = await environmentKeys(this.ctx);
    if (!environments.includes(environment)) throw notFound('environment', environment);
    // Named under `environments` (never also at the top level), whatever the request environment is.
    return this.update(origin, idOrKey, { environments: { [environment]: state } }, 'patch');
  }

  /**
   * Copies one environment's state onto another: `POST /feature-flags/{key}/promote`. A flag has
   * one version for its definition and every environment's state, so `If-Match` guards the whole.
   */
  async promote(origin: RequestOrigin, idOrKey: string, from: string, to: string): Promise<ResourceRow> {
    if (from === to)
      throw invalid('an environment cannot be promoted onto itself', [{ path: 'to', message: `must differ from 'from' (${from})` }]);
    const environments = await environmentKeys(this.ctx);
    const problems: ErrorDetail[] = [];
    if (!environments.includes(from)) problems.push({ path: 'from', message: `unknown environment '${from}'` });
    if (!environments.includes(to)) problems.push({ path: 'to', message: `unknown environment '${to}'` });
    if (problems.length > 0) throw invalid('promote names an unknown environment', problems);
    return this.onLatest(origin, idOrKey, 'update', async (row) => {
      const states = { ...(row.data.environments as Record<string, FlagState>), [to]: stateIn(row.data, from) };
      const target = { ...origin, environment: to };
      const data = await this.checked(target, this.validateFlag(target, { ...row.data, environments: states }, environments), environments);
      return this.save(origin, row, data, 'feature-flag.promote', environments);
    });
  }
}

/** Whether a detail path starts at one of a flag's state fields. */
function isState(path: string): boolean {
  const first = path.split('.')[0]!;
  return Object.keys(stateFieldsOf({ [first]: true })).length > 0;
}
