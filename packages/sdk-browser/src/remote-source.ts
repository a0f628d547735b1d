import { encodeContext } from './context';
import { SwitchyardError } from './errors';
import { requestJson } from './http';
import type { Snapshot, Source, SourceDetail } from './source';
import { openStream } from './stream';

/** An evaluation as the SDK endpoints send it (snake_case). */
interface WireDetail {
  value: unknown;
  variant: string | null;
  reason: SourceDetail['reason'];
  rule_id?: string;
  error_code?: SourceDetail['errorCode'];
  in_experiment?: boolean;
  /** The experiment's unit id, when the server enrolled the unit (experiments may bucket by another attribute than `key`). */
  unit_id?: string;
}

/** `{version, flags}` from `/sdk/v1/evaluate` or the stream, in the SDK's camelCase form. */
function snapshotOf(data: { version?: unknown; flags?: Record<string, WireDetail | null> } | undefined): Snapshot {
  if (typeof data?.version !== 'number' || typeof data.flags !== 'object' || data.flags === null) {
    throw new SwitchyardError('INVALID_RESPONSE', 'expected {version, flags}');
  }
  const flags: Snapshot['flags'] = {};
  for (const [k, w] of Object.entries(data.flags)) {
    let d: SourceDetail | null = null;
    if (w) {
      d = { value: w.value, variant: w.variant, reason: w.reason };
      if (w.rule_id !== undefined) d.ruleId = w.rule_id;
      if (w.error_code !== undefined) d.errorCode = w.error_code;
      if (w.in_experiment !== undefined) d.inExperiment = w.in_experiment;
      if (w.unit_id !== undefined) d.unit = w.unit_id;
    }
    flags[k] = d;
  }
  return { version: data.version, flags };
}

/**
 * Remote mode: the server evaluates. `POST /sdk/v1/evaluate` loads every flag for a context;
 * the client-key stream (`?context=` base64url JSON) pushes a `put` on connect and a `patch`
 * with the re-evaluated flags that changed. The page never sees rules or segment lists.
 *
 * @example
 * ```ts
 * const source = remoteSource('https://flags.example.com', 'sy_cli_...');
 * const { flags } = await source.load({ key: 'user-1' });
 * ```
 */
export function remoteSource(baseUrl: string, clientKey: string): Source {
  let close: (() => void) | undefined;
  return {
    load: async (context) => snapshotOf((await requestJson(`${baseUrl}/sdk/v1/evaluate`, clientKey, { context }))?.data),
    watch(context, sink) {
      close?.();
      const url = `${baseUrl}/sdk/v1/stream?key=${encodeURIComponent(clientKey)}&context=${encodeContext(context)}`;
      close = openStream(() => url, { put: (d) => sink.data(snapshotOf(d)), patch: (d) => sink.data(snapshotOf(d), true) }, sink.error);
    },
    close: () => close?.(),
  };
}
