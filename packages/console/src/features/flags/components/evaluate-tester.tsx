import { useState, type FormEvent } from 'react';
import { ErrorBanner } from '../../../components/ui/error-banner';
import { evaluateOnServer, type EvaluationResult } from '../api/flags';

/**
 * "What does this user get?": evaluates the flag on the server (the same code the SDKs run)
 * for a user id and attributes typed as `name=value` lines.
 */
export function EvaluateTester({ flagKey, envName }: { flagKey: string; envName: string }) {
  const [result, setResult] = useState<EvaluationResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const attrs: Record<string, string> = { user_id: String(form.get('user_id')) };
    for (const line of String(form.get('attributes')).split('\n')) {
      const at = line.indexOf('=');
      if (at > 0) attrs[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    setBusy(true);
    setError(null);
    try {
      setResult(await evaluateOnServer(flagKey, attrs));
    } catch (err) {
      setError(err);
      setResult(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="tester-title">
      <h2 id="tester-title">What does this user get in {envName}?</h2>
      <form onSubmit={(e) => void submit(e)} className="tester">
        <div className="field">
          <label htmlFor="tester-user">User id</label>
          <input id="tester-user" name="user_id" required />
        </div>
        <div className="field">
          <label htmlFor="tester-attrs">Attributes (one name=value per line)</label>
          <textarea id="tester-attrs" name="attributes" rows={4} placeholder={'country=US\nemail=ann@example.com'} />
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          Evaluate
        </button>
      </form>
      <ErrorBanner error={error} />
      {result !== null && (
        <dl className="result" aria-live="polite" data-testid="evaluation">
          <dt>Variant</dt>
          <dd>{result.variant ?? '—'}</dd>
          <dt>Value</dt>
          <dd>
            <code>{JSON.stringify(result.value)}</code>
          </dd>
          <dt>Reason</dt>
          <dd>{result.reason}</dd>
        </dl>
      )}
    </section>
  );
}
