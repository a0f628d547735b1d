import { applyPatch, compileConfig, evaluateAll, type CompiledConfig, type ConfigDocument, type ConfigPatch } from '@switchyard/core';
import { SwitchyardError } from './errors';
import { requestJson } from './http';
import type { Sink, Snapshot, Source } from './source';
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
 * const source = localSource('https://flags.example.com', 'sy_srv_...');
 * const { flags } = await source.load({ key: 'user-1' });
 * ```
 */
export function localSource(baseUrl: string, serverKey: string): Source {
  let compiled: CompiledConfig | undefined;
  let context: Context;
  let sink: Sink | undefined;
  let close: (() => void) | undefined;

  const evaluateFor = (ctx: Context): Snapshot => {
    const flags: Snapshot['flags'] = {};
    for (const [k, d] of Object.entries(evaluateAll(compiled!, ctx))) {
      const by = d.inExperiment ? compiled!.document.experiments?.[k]?.bucket_by : undefined;
      const unit = by === undefined ? undefined : ctx[by];
      flags[k] = typeof unit === 'string' || typeof unit === 'number' ? { ...d, unit: String(unit) } : d;
    }
    return { version: compiled!.version, flags };
  };

  /** Compiles a document; `onlyNewer` drops one older than what the stream already gave. */
  const set = (doc: ConfigDocument, onlyNewer?: boolean) => {
    if (typeof doc?.version !== 'number') throw new SwitchyardError('INVALID_RESPONSE', 'expected a config document');
    if (!onlyNewer || !compiled || doc.version >= compiled.version) compiled = compileConfig(doc);
  };
  const push = () => sink?.data(evaluateFor(context));
  const resync = () =>
    requestJson(`${baseUrl}/sdk/v1/config`, serverKey).then((doc: ConfigDocument) => {
      set(doc);
      push();
    });

  return {
    peek: (ctx) => (compiled ? evaluateFor(ctx) : undefined),
    async load(ctx) {
      if (!compiled) set(await requestJson(`${baseUrl}/sdk/v1/config`, serverKey), true);
      return evaluateFor(ctx);
    },
    watch(ctx, s) {
      context = ctx;
      sink = s;
      close ??= openStream(
        // On a reopen the server replays the patches since our version, or sends a put.
        () => `${baseUrl}/sdk/v1/stream?key=${encodeURIComponent(serverKey)}${compiled ? `&last_event_id=${compiled.version}` : ''}`,
        {
          put(doc: ConfigDocument) {
            set(doc);
            push();
          },
          patch(p: ConfigPatch) {
            if (!compiled || p.version <= compiled.version) return;
            if (p.version !== compiled.version + 1) return void resync().catch((e: SwitchyardError) => sink?.error(e));
            compiled = compileConfig(applyPatch(compiled.document, p));
            push();
          },
        },
        (e) => sink?.error(e),
      );
    },
    close() {
      close?.();
      close = undefined;
    },
  };
}
