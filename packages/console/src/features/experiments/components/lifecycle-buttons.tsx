import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { LIFECYCLE, useLifecycle, type Experiment, type LifecycleAction } from '../api/experiments';

/**
 * The lifecycle actions, each enabled only from the states the server's state machine allows
 * (DRAFT -> RUNNING <-> PAUSED -> COMPLETED -> ARCHIVED; DRAFT may be archived) and only for a
 * role that may run them.
 */
export function LifecycleButtons({ experiment, allowed, reason }: { experiment: Experiment; allowed: boolean; reason: string }) {
  const run = useLifecycle();
  const status = experiment.attributes.status;
  return (
    <div>
      <div className="actions" role="group" aria-label="Lifecycle">
        {(Object.keys(LIFECYCLE) as LifecycleAction[]).map((action) => {
          const legal = (LIFECYCLE[action].from as readonly string[]).includes(status);
          return (
            <Button
              key={action}
              variant={action === 'start' ? 'primary' : action === 'archive' ? 'danger' : 'secondary'}
              disabled={!legal || !allowed || run.isPending}
              disabledReason={!allowed ? reason : `Not possible while ${status}`}
              onClick={() => run.mutate({ key: experiment.attributes.key, action, version: experiment.attributes.version })}
            >
              {LIFECYCLE[action].label}
            </Button>
          );
        })}
      </div>
      <ErrorBanner error={run.error} />
    </div>
  );
}
