import { useState } from 'react';
import { JsonDiff } from '../../../components/diff/json-diff';
import { Dialog } from '../../../components/ui/dialog';
import { ErrorBanner } from '../../../components/ui/error-banner';
import type { FlagState } from '../../../lib/api/resources';
import type { Environment } from '../../../lib/environment';
import { usePromoteFlag, type Flag } from '../api/flags';

const STATE_FIELDS = ['enabled', 'off_variant', 'prerequisites', 'rules', 'default_serve'] as const;
const stateOf = (s: FlagState | undefined) => (s === undefined ? undefined : Object.fromEntries(STATE_FIELDS.map((k) => [k, s[k]])));

/** One labelled choice among the environments. */
function EnvironmentSelect({
  label,
  environments,
  value,
  onChange,
}: {
  label: string;
  environments: Environment[];
  value: string;
  onChange: (key: string) => void;
}) {
  return (
    <label className="inline-field">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        {environments.map((e) => (
          <option key={e.key} value={e.key}>
            {e.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * Promote: copies one environment's targeting onto another, after showing exactly what would
 * change in the target.
 */
export function PromoteDialog({
  open,
  onClose,
  flag,
  environments,
  initialFrom,
  isAllowed,
}: {
  open: boolean;
  onClose: () => void;
  flag: Flag;
  environments: Environment[];
  initialFrom: string;
  isAllowed: (to: Environment) => boolean;
}) {
  const [from, setFrom] = useState(initialFrom);
  const [to, setTo] = useState(() => environments.find((e) => e.key !== initialFrom)?.key ?? initialFrom);
  const promote = usePromoteFlag();
  const envs = flag.attributes.environments ?? {};
  const target = environments.find((e) => e.key === to);
  const allowed = target !== undefined && isAllowed(target) && from !== to;
  return (
    <Dialog open={open} title={`Promote ${flag.attributes.key}`} onClose={onClose}>
      <div className="toolbar">
        <EnvironmentSelect label="From" environments={environments} value={from} onChange={setFrom} />
        <EnvironmentSelect label="To" environments={environments} value={to} onChange={setTo} />
      </div>
      <JsonDiff before={stateOf(envs[to])} after={stateOf(envs[from])} label={`What changes in ${target?.name ?? to}`} />
      <ErrorBanner error={promote.error} />
      {promote.isSuccess && <p role="status">Promoted.</p>}
      <div className="actions">
        <button
          type="button"
          className="btn btn-primary"
          disabled={!allowed || promote.isPending}
          title={allowed ? undefined : from === to ? 'Pick two different environments' : 'Your role cannot change that environment'}
          onClick={() => promote.mutate({ key: flag.attributes.key, from, to })}
        >
          Promote {environments.find((e) => e.key === from)?.name ?? from} to {target?.name ?? to}
        </button>
      </div>
    </Dialog>
  );
}
