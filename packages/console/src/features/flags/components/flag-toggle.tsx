import { Toggle } from '../../../components/ui/toggle';
import type { Environment } from '../../../lib/environment';
import { can } from '../../../lib/permissions';
import { ownerOf } from '../../../lib/api/resources';
import { useMe } from '../../../lib/session';
import { useUpdateFlag, type Flag } from '../api/flags';

/** Whether a flag is on in `env`: its per-environment state, or the flattened state of the request environment. */
export function enabledIn(flag: Flag, env: string, requestEnv: string): boolean {
  const state = flag.attributes.environments?.[env];
  if (state !== undefined) return state.enabled === true;
  return env === requestEnv && flag.attributes.enabled === true;
}

/**
 * The kill switch of one flag in one environment. Its accessible name names the environment
 * ("new-checkout in production"), since a row holds one switch per environment.
 */
export function FlagToggle({ flag, env, requestEnv }: { flag: Flag; env: Environment; requestEnv: string }) {
  const me = useMe();
  const update = useUpdateFlag();
  const allowed = can(me.role, 'editOwn', { ownerId: ownerOf(flag), userId: me.id, protectedEnv: env.protected });
  const on =
    update.isPending && update.variables?.environment === env.key
      ? update.variables.body.enabled === true
      : enabledIn(flag, env.key, requestEnv);
  const key = flag.attributes.key;
  return (
    <span className="flag-toggle">
      <Toggle
        label={`${key} in ${env.name}`}
        checked={on}
        disabled={!allowed || update.isPending}
        title={allowed ? undefined : env.protected ? `Only admins change ${env.name}` : 'Your role cannot change this flag'}
        onCheckedChange={(v) => update.mutate({ key, body: { enabled: v }, version: flag.attributes.version, environment: env.key })}
      />
      {update.error && (
        <span className="field-error" role="alert">
          {update.error.message}
        </span>
      )}
    </span>
  );
}
