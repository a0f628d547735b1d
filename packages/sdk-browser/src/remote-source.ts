import { encodeContext } from './context';
import { SwitchyardError } from './errors';
import { requestJson } from './http';
import { fromWire, type WireEvaluation } from '@switchyard/core/protocol';
import type { NetOptions, Snapshot, Source } from './source';
import { openStream } from './stream';

/** `{version, flags}` from `/sdk/v1/evaluate` or the stream, in the SDK's camelCase form. */
function snapshotOf(data: Partial<WireEvaluation> | undefined): Snapshot {
  if (typeof data?.version !== 'number' || typeof data.flags !== 'object' || data.flags === null) {
    throw new SwitchyardError('INVALID_RESPONSE', 'expected {version, flags}');
  }
  const flags: Snapshot['flags'] = {};
  for (const [k, w] of Object.entries(data.flags)) flags[k] = w ? fromWire(w) : null;
  return { version: data.version, flags };
}

/**
 * Remote mode: the server evaluates. `POST /sdk/v1/evaluate` loads every flag for a context;
 * the client-key stream (`?context=` base64url JSON) pushes a `put` on connect and a `patch`
 * with the re-evaluated flags that changed. The page never sees rules or segment lists.
 *
 * @example
 * ```ts
 * const source = remoteSource('https://flags.example.com', 'sy_cli_...', { requestTimeoutMs: 10_000, staleAfterMs: 45_000 });
 * const { flags } = await source.load({ key: 'user-1' });
 * ```
 */
export function remoteSource(baseUrl: string, clientKey: string, net: NetOptions): Source {
  let close: (() => void) | undefined;
  return {
    load: async (context) =>
      snapshotOf((await requestJson(`${baseUrl}/sdk/v1/evaluate`, clientKey, { context }, net.requestTimeoutMs))?.data),
    watch(context, sink) {
      close?.();
      const url = `${baseUrl}/sdk/v1/stream?key=${encodeURIComponent(clientKey)}&context=${encodeContext(context)}`;
      close = openStream({
        url: () => url,
        handlers: { put: (d) => sink.data(snapshotOf(d)), patch: (d) => sink.data(snapshotOf(d), true) },
        onAlive: sink.alive,
        onError: sink.error,
        timeoutMs: net.requestTimeoutMs,
        staleAfterMs: net.staleAfterMs,
      });
    },
    close: () => close?.(),
  };
}
