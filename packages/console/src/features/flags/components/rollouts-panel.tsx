import { ErrorBanner } from '../../../components/ui/error-banner';
import type { Environment } from '../../../lib/environment';
import type { Flag } from '../api/flags';
import { isActive, useRollouts, useStartRollout, useStopRollout } from '../api/rollouts';
import { RolloutForm } from './rollout-form';
import { RolloutStatus } from './rollout-status';

/** What a rollback serves unless the person picks otherwise: the environment's fixed default, else the off variant. */
function controlOf(flag: Flag): string | undefined {
  const a = flag.attributes;
  const serve = a.default_serve as { variant?: string } | undefined;
  return serve?.variant ?? a.off_variant ?? undefined;
}

/**
 * Guarded rollouts of a flag in the current environment: the active one (stage, share, units,
 * guardrails, history, stop) or the form that starts one, then the ended ones, newest first.
 */
export function RolloutsPanel({ flag, env, canEdit, reason }: { flag: Flag; env: Environment; canEdit: boolean; reason: string }) {
  const key = flag.attributes.key;
  const rollouts = useRollouts(key, env.key);
  const start = useStartRollout(key, env.key);
  const stop = useStopRollout(key, env.key);
  if (rollouts.isPending) return <p className="loading">Loading…</p>;
  if (rollouts.error) return <ErrorBanner error={rollouts.error} />;
  const active = rollouts.data.find(isActive);
  // The newest rollout stays in view after it ends, so a rollback is seen where it happened.
  const latest = active ?? rollouts.data[0];
  const earlier = rollouts.data.filter((r) => r !== latest);
  return (
    <section aria-labelledby="rollouts-title">
      <h2 id="rollouts-title">
        Guarded rollouts in <span className="env-name">{env.name}</span>
      </h2>
      {latest && (
        <RolloutStatus
          rollout={latest}
          canEdit={canEdit}
          reason={reason}
          stopping={stop.isPending}
          stopError={stop.error}
          onStop={() => stop.mutate(latest)}
        />
      )}
      {!active && (
        <RolloutForm
          // A fresh form after each start, so a finished rollout's plan does not linger.
          key={rollouts.data.length}
          variants={(flag.attributes.variants ?? []).map((v) => v.key)}
          defaultControl={controlOf(flag)}
          envName={env.name}
          canEdit={canEdit}
          reason={reason}
          pending={start.isPending}
          error={start.error}
          onSubmit={(body) => start.mutate(body)}
        />
      )}
      {earlier.length > 0 && (
        <>
          <h3>Earlier rollouts</h3>
          {earlier.map((r) => (
            <details key={r.id}>
              <summary>
                {r.attributes.variant} over {r.attributes.control}: {r.attributes.status.replace('_', ' ')}
                {r.attributes.ended_at ? ` on ${new Date(r.attributes.ended_at).toLocaleString()}` : ''}
              </summary>
              <RolloutStatus rollout={r} canEdit={false} reason="" stopping={false} stopError={null} onStop={() => undefined} />
            </details>
          ))}
        </>
      )}
    </section>
  );
}
