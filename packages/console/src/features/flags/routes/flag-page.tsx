import { useState } from 'react';
import { Link, useParams } from 'react-router';
import * as Tabs from '@radix-ui/react-tabs';
import { Button } from '../../../components/ui/button';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { useEnvironment } from '../../../lib/environment';
import { can } from '../../../lib/permissions';
import { ownerOf } from '../../../lib/api/resources';
import { useMe } from '../../../lib/session';
import { useFlag } from '../api/flags';
import { EvaluateTester } from '../components/evaluate-tester';
import { FlagHistory } from '../components/flag-history';
import { FlagToggle } from '../components/flag-toggle';
import { PromoteDialog } from '../components/promote-dialog';
import { RolloutsPanel } from '../components/rollouts-panel';
import { SdkSnippets } from '../components/sdk-snippets';
import { TargetingEditor } from '../components/targeting-editor';
import { VariantsPanel } from '../components/variants-panel';

/** One flag: kill switches, targeting in the current environment, promote, tester, history, snippets. */
export default function FlagPage() {
  const { key = '' } = useParams();
  const me = useMe();
  const { environments, current, supported } = useEnvironment();
  const flag = useFlag(key);
  const [promoting, setPromoting] = useState(false);

  if (flag.isPending) return <p className="loading">Loading…</p>;
  if (flag.error) return <ErrorBanner error={flag.error} />;
  const f = flag.data;
  const a = f.attributes;
  const ownerId = ownerOf(f);
  const canEdit = can(me.role, 'editOwn', { ownerId, userId: me.id, protectedEnv: current.protected });
  const reason =
    me.role === 'VIEWER'
      ? 'Viewers can read targeting but not change it.'
      : current.protected
        ? `${current.name} is protected: only admins change it.`
        : 'Only the owner of this flag or an admin can change it.';

  return (
    <article aria-labelledby="flag-title">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/flags">Flags</Link> / <span aria-current="page">{a.key}</span>
      </nav>
      <header className="page-header">
        <div>
          <h1 id="flag-title">{a.name || a.key}</h1>
          <p className="muted">
            <code>{a.key}</code> · {a.type}
            {a.description ? ` · ${a.description}` : ''}
          </p>
        </div>
        <div className="env-toggles">
          {(supported ? environments : [current]).map((e) => (
            <label key={e.key} className="env-toggle">
              <span>{e.name}</span>
              <FlagToggle flag={f} env={e} requestEnv={current.key} />
            </label>
          ))}
        </div>
        {supported && environments.length > 1 && (
          <Button onClick={() => setPromoting(true)} disabled={me.role === 'VIEWER'} disabledReason="Viewers cannot promote">
            Promote…
          </Button>
        )}
      </header>
      <Tabs.Root defaultValue="targeting" className="tabs">
        <Tabs.List aria-label="Flag sections" className="tab-list">
          <Tabs.Trigger value="targeting">Targeting</Tabs.Trigger>
          <Tabs.Trigger value="rollouts">Rollouts</Tabs.Trigger>
          <Tabs.Trigger value="variants">Variants</Tabs.Trigger>
          <Tabs.Trigger value="test">Test a user</Tabs.Trigger>
          <Tabs.Trigger value="history">History</Tabs.Trigger>
          <Tabs.Trigger value="code">Code</Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="targeting">
          {/* Keyed by environment: a switch starts a fresh draft; a save elsewhere does not (see the editor). */}
          <TargetingEditor key={current.key} flag={f} env={current} canEdit={canEdit} reason={reason} />
        </Tabs.Content>
        <Tabs.Content value="rollouts">
          <RolloutsPanel key={current.key} flag={f} env={current} canEdit={canEdit} reason={reason} />
        </Tabs.Content>
        <Tabs.Content value="variants">
          <VariantsPanel flag={f} />
        </Tabs.Content>
        <Tabs.Content value="test">
          <EvaluateTester flagKey={a.key} envName={current.name} />
        </Tabs.Content>
        <Tabs.Content value="history">
          <FlagHistory flagId={f.id} isAdmin={can(me.role, 'admin')} />
        </Tabs.Content>
        <Tabs.Content value="code">
          <SdkSnippets flagKey={a.key} type={a.type} />
        </Tabs.Content>
      </Tabs.Root>
      {promoting && (
        <PromoteDialog
          open
          onClose={() => setPromoting(false)}
          flag={f}
          environments={environments}
          initialFrom={current.key}
          isAllowed={(to) => can(me.role, 'editOwn', { ownerId, userId: me.id, protectedEnv: to.protected })}
        />
      )}
    </article>
  );
}
