import { useState } from 'react';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import type { Environment } from '../../../lib/environment';
import { useDeleteEnvironment, useUpdateEnvironment } from '../api/environments';

/**
 * One environment: colour and protection are edited in place; deleting asks first and shows
 * the server's refusal (a 409 while keys or experiments use it) on the row it concerns.
 */
export function EnvironmentRow({ env, allowed, isDefault }: { env: Environment; allowed: boolean; isDefault: boolean }) {
  const update = useUpdateEnvironment();
  const remove = useDeleteEnvironment();
  const [color, setColor] = useState(env.color ?? '#6b7280');
  // Shown at once; the row is keyed by the stored value, so the server's answer replaces it.
  const [protectedNow, setProtectedNow] = useState(env.protected);
  const why = allowed ? undefined : 'Only admins change environments';
  return (
    <tr data-environment={env.key}>
      <th scope="row">
        <span className="env-swatch" aria-hidden="true" ref={(el) => el?.style.setProperty('background', env.color ?? 'transparent')} />
        {env.name} <code>{env.key}</code>
        {isDefault && <span className="badge">default</span>}
      </th>
      <td>
        <label className="inline-row">
          <span className="visually-hidden">Colour of {env.name}</span>
          <input type="color" value={color} disabled={!allowed} title={why} onChange={(e) => setColor(e.target.value)} />
          <Button
            disabled={!allowed || update.isPending || color === (env.color ?? '')}
            disabledReason={why}
            onClick={() => update.mutate({ key: env.key, body: { color } })}
          >
            Save colour of {env.name}
          </Button>
        </label>
      </td>
      <td>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={protectedNow}
            disabled={!allowed || update.isPending}
            title={why}
            onChange={(e) => {
              const next = e.target.checked;
              setProtectedNow(next);
              update.mutate({ key: env.key, body: { protected: next } }, { onError: () => setProtectedNow(!next) });
            }}
          />
          Protect {env.name}
        </label>
      </td>
      <td>
        <Button
          variant="danger"
          disabled={!allowed || remove.isPending}
          disabledReason={why}
          onClick={() => {
            if (window.confirm(`Delete the environment "${env.name}" and every flag state in it?`)) remove.mutate(env.key);
          }}
        >
          Delete {env.name}
        </Button>
        <ErrorBanner error={remove.error ?? update.error} />
      </td>
    </tr>
  );
}
