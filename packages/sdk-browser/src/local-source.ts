import {
  compileConfig,
  evaluateAll,
  patchCompiledConfig,
  type CompiledConfig,
  type ConfigDocument,
  type ConfigPatch,
} from '@switchyard/core';
import { SwitchyardError } from './errors';
import { requestJson } from './http';
import { patchAction, unitIdOf } from '@switchyard/core/protocol';
import type { NetOptions, Sink, Snapshot, Source } from './source';
import { loadRegexEngine, regexEnginePending } from './regex/lazy-engine';
import { openStream } from './stream';
import type { Context } from './types';

/**
 * Local mode: the server-key stream delivers the whole config document (`put`) and its changes
 * (`patch`, `null` = deleted); core compiles it once per version and evaluates in the page.
 * Identifying another context needs no request at all. An experiment bucketed by another
 * attribute than `key` records its exposures under that attribute's value.
 *
 * @example
 * ```ts
 * const source = localSource('https://flags.example.com', 'sy_srv_...', { requestTimeoutMs: 10_000, staleAfterMs: 45_000 });
 * const { flags } = await source.load({ key: 'user-1' });
 * ```
 */
export function localSource(baseUrl: string, serverKey: string, net: NetOptions): Source {
  let compiled: CompiledConfig | undefined;
  let context: Context;
  let sink: Sink | undefined;
  let close: (() => void) | undefined;

  const evaluateFor = (ctx: Context): Snapshot => {
    const flags: Snapshot['flags'] = {};
    for (const [k, d] of Object.entries(evaluateAll(compiled!, ctx))) {
      const unit = d.inExperiment ? unitIdOf(ctx, compiled!.document.experiments?.[d.experiment ?? k]?.bucket_by) : null;
      flags[k] = unit === null ? d : { ...d, unitId: unit };
    }
    return { version: compiled!.version, flags };
  };

  /** Compiles a document; `onlyNewer` drops one older than what the stream already gave. */
  const set = (doc: ConfigDocument, onlyNewer?: boolean) => {
    if (typeof doc?.version !== 'number') throw new SwitchyardError('INVALID_RESPONSE', 'expected a config document');
    if (!onlyNewer || !compiled || doc.version >= compiled.version) compiled = compileConfig(doc);
  };
  // A config that uses `matches` is evaluated once the RE2 engine has arrived (fetched once).
  const whenEvaluable = (): Promise<void> | void =>
    regexEnginePending()
      ? loadRegexEngine().catch((e: unknown) => {
          throw new SwitchyardError('NETWORK_ERROR', 'the RE2 engine for `matches` did not load', { cause: e });
        })
      : undefined;
  const push = () => {
    const wait = whenEvaluable();
    if (!wait) return void sink?.data(evaluateFor(context));
    wait.then(
      () => sink?.data(evaluateFor(context)),
      (e: SwitchyardError) => sink?.error(e),
    );
  };
  const resync = () =>
    requestJson(`${baseUrl}/sdk/v1/config`, serverKey, undefined, net.requestTimeoutMs).then((doc: ConfigDocument) => {
      set(doc);
      push();
    });

  return {
    peek: (ctx) => (compiled && !regexEnginePending() ? evaluateFor(ctx) : undefined),
    async load(ctx) {
      if (!compiled) set(await requestJson(`${baseUrl}/sdk/v1/config`, serverKey, undefined, net.requestTimeoutMs), true);
      await whenEvaluable();
      return evaluateFor(ctx);
    },
    watch(ctx, s) {
      context = ctx;
      sink = s;
      close ??= openStream({
        // On a reopen the server replays the patches since our version (the protocol's
        // LAST_EVENT_ID_PARAM: a new EventSource cannot set Last-Event-ID), or sends a put.
        url: () => `${baseUrl}/sdk/v1/stream?key=${encodeURIComponent(serverKey)}${compiled ? `&last_event_id=${compiled.version}` : ''}`,
        handlers: {
          put(doc: ConfigDocument) {
            set(doc);
            push();
          },
          patch(p: ConfigPatch) {
            const action = patchAction(compiled ? compiled.version : null, p.version);
            if (action === 'ignore') return;
            if (action === 'refetch') return void resync().catch((e: SwitchyardError) => sink?.error(e));
            // Recompiles only what the patch changes (and what depends on it), in place.
            compiled = patchCompiledConfig(compiled!, p);
            push();
          },
        },
        onAlive: () => sink?.alive(),
        onError: (e) => sink?.error(e),
        timeoutMs: net.requestTimeoutMs,
        staleAfterMs: net.staleAfterMs,
      });
    },
    close() {
      close?.();
      close = undefined;
    },
  };
}
