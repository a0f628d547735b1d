import {
  ErrorCode as OpenFeatureErrorCode,
  GeneralError,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type EvaluationContext as OpenFeatureContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/server-sdk';
import { toResolution } from '@switchyard/core/protocol';
import type { SwitchyardClient } from '../client';
import { createClient } from '../create-client';
import type { ClientOptions } from '../options';
import { toSwitchyardContext } from './context';

/**
 * Options of {@link SwitchyardProvider} beyond the client's own.
 *
 * @example
 * ```ts
 * new SwitchyardProvider({ sdkKey, baseUrl }, { readyTimeoutMs: 2000 });
 * ```
 */
export interface SwitchyardProviderOptions {
  /** How long `initialize` (and so `setProviderAndWait`) waits for the first config. Default: the client's `readyTimeoutMs`. */
  readyTimeoutMs?: number;
}

function isClient(x: unknown): x is SwitchyardClient {
  // Duck typing, not instanceof: the CJS build of this subpath may carry its own copy of the class.
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as SwitchyardClient).detail === 'function' &&
    typeof (x as SwitchyardClient).on === 'function'
  );
}

/**
 * An OpenFeature server provider backed by a Switchyard client: in-process evaluation, resolution
 * details with Switchyard's reasons and error codes (already OpenFeature's names), provider events
 * (`READY`, `CONFIGURATION_CHANGED` with `flagsChanged`, `STALE`, `ERROR`) and tracking.
 * OpenFeature's `targetingKey` is the unit key.
 *
 * Pass client options (the provider then owns the client and closes it in `onClose`) or an
 * existing client (shared with direct SDK calls; you close it).
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { SwitchyardProvider } from '@switchyard/sdk-node/openfeature';
 *
 * await OpenFeature.setProviderAndWait(new SwitchyardProvider({ sdkKey, baseUrl }));
 * const of = OpenFeature.getClient();
 * const on = await of.getBooleanValue('new-checkout', false, { targetingKey: 'user-1', country: 'US' });
 * of.track('purchase', { targetingKey: 'user-1' }, { value: 42.5, currency: 'EUR' });
 * ```
 */
export class SwitchyardProvider implements Provider {
  readonly metadata = { name: 'switchyard' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  /** The Switchyard client behind the provider. */
  readonly client: SwitchyardClient;
  private readonly owned: boolean;
  private readonly readyTimeoutMs: number | undefined;
  /** `pending` while OpenFeature awaits `initialize` (it emits READY/ERROR for that itself). */
  private init: 'idle' | 'pending' | 'ready' | 'failed' = 'idle';
  private readonly unsubscribe: (() => void)[] = [];

  constructor(clientOrOptions: SwitchyardClient | ClientOptions, options: SwitchyardProviderOptions = {}) {
    this.owned = !isClient(clientOrOptions);
    this.client = isClient(clientOrOptions) ? clientOrOptions : createClient(clientOrOptions);
    this.readyTimeoutMs = options.readyTimeoutMs;
    const c = this.client;
    this.unsubscribe.push(
      c.on('change', (change) => {
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: change.keys, metadata: { version: change.version } });
      }),
      c.on('stale', (s) => {
        this.events.emit(ProviderEvents.Stale, { message: `no data from the Switchyard server for ${s.silentForMs} ms` });
      }),
      // READY again after STALE, or after an initialize that timed out and a config that came later.
      c.on('recovered', () => this.events.emit(ProviderEvents.Ready, {})),
      c.on('ready', () => {
        if (this.init === 'failed') {
          this.init = 'ready';
          this.events.emit(ProviderEvents.Ready, {});
        }
      }),
      c.on('error', (err) => {
        // Only a refused key stops the client; anything else is retried while the held config
        // keeps serving, which is not OpenFeature's ERROR ("unable to evaluate").
        if (err.code === 'UNAUTHORIZED' && this.init !== 'pending') {
          this.events.emit(ProviderEvents.Error, { message: err.message, errorCode: OpenFeatureErrorCode.PROVIDER_FATAL });
        }
      }),
    );
  }

  /** Waits for the first config; rejects (OpenFeature then reports ERROR, or FATAL for a refused key) on timeout. */
  async initialize(): Promise<void> {
    this.init = 'pending';
    try {
      await this.client.ready(this.readyTimeoutMs === undefined ? {} : { timeoutMs: this.readyTimeoutMs });
      this.init = 'ready';
    } catch (err) {
      this.init = this.client.isReady ? 'ready' : 'failed';
      const e = err as { code?: string; message?: string };
      if (e.code === 'UNAUTHORIZED') throw new ProviderFatalError(e.message);
      throw new GeneralError(e.message ?? String(err));
    }
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: OpenFeatureContext): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: OpenFeatureContext): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: OpenFeatureContext): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context));
  }

  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: OpenFeatureContext,
  ): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, defaultValue, context));
  }

  /** OpenFeature tracking: `value` becomes the event value, the other details its properties. */
  track(trackingEventName: string, context: OpenFeatureContext, trackingEventDetails?: TrackingEventDetails): void {
    const { value, ...properties } = trackingEventDetails ?? {};
    this.client.track(trackingEventName, toSwitchyardContext(context), {
      ...(typeof value === 'number' ? { value } : {}),
      ...(Object.keys(properties).length > 0 ? { properties } : {}),
    });
  }

  /** Detaches from the client; closes it (delivering queued events) when the provider created it. */
  async onClose(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    if (this.owned) await this.client.close();
  }

  private resolve<T>(flagKey: string, defaultValue: T, context: OpenFeatureContext): ResolutionDetails<T> {
    const d = this.client.detail(flagKey, toSwitchyardContext(context), defaultValue);
    // The protocol's mapping, shared with the web provider; its codes are OpenFeature's names.
    const out = toResolution(d, this.client.configVersion) as ResolutionDetails<T>;
    return out;
  }
}
