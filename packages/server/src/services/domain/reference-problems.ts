import { formatPath, type ConfigIssue } from '@switchyard/core/schema';
import type { ErrorDetail } from '../../errors';
import type { RequestOrigin, ServerContext } from '../context';
import type { EnvironmentPatches, KindSpec } from './kind-spec';

/**
 * Where a reference issue of `env`'s patch is reported for a resource:
 * relative to the resource when it is inside it (under `environments.<env>.` for a flag's state
 * in another environment than the request's), otherwise by its config path; the message names
 * the environment when the path does not.
 */
export function placeIssue(
  issue: ConfigIssue,
  env: string,
  origin: RequestOrigin,
  /** The resource's kind and key; `null` for an issue reported by its config path whatever it is in. */
  resource: { spec: Pick<KindSpec, 'kind' | 'docField'>; key: string } | null,
): ErrorDetail & { path: string; message: string } {
  const spec = resource?.spec;
  const own = resource !== null && issue.path[0] === resource.spec.docField && issue.path[1] === resource.key;
  const elsewhere = env !== origin.environment;
  const ownState = own && spec?.kind === 'flag' && elsewhere;
  const path = ownState ? formatPath(['environments', env, ...issue.path.slice(2)]) : formatPath(own ? issue.path.slice(2) : issue.path);
  const message = elsewhere && !ownState ? `${issue.message} (in environment '${env}')` : issue.message;
  return { path, message };
}

/**
 * Core's reference issues of `patches` in every environment they go to, each placed by `place`,
 * without repeats (the same path and message once).
 */
export async function referenceProblemsOf(
  ctx: ServerContext,
  patches: EnvironmentPatches,
  place: (issue: ConfigIssue, env: string) => ErrorDetail & { path: string; message: string },
): Promise<ErrorDetail[]> {
  const out: ErrorDetail[] = [];
  const seen = new Set<string>();
  for (const [env, patch] of Object.entries(patches)) {
    for (const issue of (await ctx.environments.get(env)).config.referenceIssues(patch)) {
      const detail = place(issue, env);
      const id = `${detail.path}\u0000${detail.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(detail);
    }
  }
  return out;
}
