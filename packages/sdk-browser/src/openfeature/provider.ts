import {
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  type ErrorCode,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/web-sdk';
import { EVENT_ERROR_CODES, toResolution } from '@switchyard/core/protocol';
import { createBrowserClient } from '../index';
import type { BrowserClient, BrowserClientOptions, Context } from '../types';

/**
 * Options of {@link SwitchyardWebProvider}: a remote-mode client's options without the context
 * (OpenFeature supplies it), or a factory for any client, e.g. a local-mode one.
 *
 * @example
 * ```ts
 * new SwitchyardWebProvider({ clientKey: 'sy_cli_...', baseUrl });
 * new SwitchyardWebProvider({ client: (context) => createLocalClient({ serverKey, baseUrl, context }) });
 * ```
 */
export type SwitchyardProviderOptions = Omit<BrowserClientOptions, 'context'> | { client: (context: Context) => BrowserClient };

/**
 * OpenFeature's `targetingKey` becomes Switchyard's `key`; every other attribute is kept.
 *
 * @example
 * ```ts
 * toSwitchyardContext({ targetingKey: 'user-1', plan: 'pro' }); // { plan: 'pro', key: 'user-1' }
 * ```
 */
export function toSwitchyardContext(context: EvaluationContext = {}): Context {
  const { targetingKey, ...rest } = context;
  return targetingKey === undefined ? rest : { ...rest, key: targetingKey };
}

/**
 * An OpenFeature web provider (static-context paradigm) backed by a Switchyard browser client.
 * `initialize` creates the client for the global context and waits for fresh values;
 * `onContextChange` re-evaluates for the new context (`identify`). Reasons and error codes map
 * 1:1 onto OpenFeature's; `PREREQUISITE_FAILED` passes through as a custom reason. The rule id
 * and experiment enrolment are in `flagMetadata`. Evaluating an experiment key records one
 * exposure, and `client.track()` sends a `track` event.
 *
 * Events: a config change emits `ConfigurationChanged` with the changed keys, a lost stream
 * `Stale`, its recovery `Ready`, and other failures `Error`.
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/web-sdk';
 * import { SwitchyardWebProvider } from '@switchyard/sdk-browser/openfeature';
 *
 * await OpenFeature.setContext({ targetingKey: 'user-1', plan: 'pro' });
 * await OpenFeature.setProviderAndWait(new SwitchyardWebProvider({ clientKey: 'sy_cli_...', baseUrl: 'https://flags.example.com' }));
 * const on = OpenFeature.getClient().getBooleanValue('new-checkout', false);
 * ```
 */
export class SwitchyardWebProvider implements Provider {
  readonly metadata = { name: 'switchyard' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  private readonly create: (context: Context) => BrowserClient;
  private instance: BrowserClient | undefined;
  /** Set while the provider is in ERROR or STALE, so the next fresh values emit `Ready`. */
  private degraded = false;
  private initialized = false;

  constructor(options: SwitchyardProviderOptions) {
    this.create = 'client' in options ? options.client : (context) => createBrowserClient({ ...options, context });
  }

  /** The underlying Switchyard client (after `initialize`). */
  get client(): BrowserClient | undefined {
    return this.instance;
  }

  async initialize(context?: EvaluationContext): Promise<void> {
    const client = (this.instance = this.create(toSwitchyardContext(context)));
    client.on('change', ({ keys, version }) =>
      this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: keys, metadata: { version } }),
    );
    const fresh = () => {
      if (this.initialized && this.degraded) this.events.emit(ProviderEvents.Ready);
      this.degraded = false;
    };
    client.on('ready', fresh);
    client.on('recovered', fresh);
    client.on('error', (e) => {
      if (!this.initialized) return; // initialize() reports its own failure
      // Analytics failures leave evaluation untouched: the provider stays READY.
      if (EVENT_ERROR_CODES.includes(e.code)) return;
      this.degraded = true;
      this.events.emit(e.code === 'STREAM_ERROR' ? ProviderEvents.Stale : ProviderEvents.Error, { message: e.message });
    });
    try {
      await client.ready();
    } catch (e) {
      this.degraded = true;
      if ((e as { code?: string }).code === 'UNAUTHORIZED') throw new ProviderFatalError((e as Error).message);
      throw e;
    } finally {
      this.initialized = true;
    }
  }

  async onContextChange(_old: EvaluationContext, next: EvaluationContext): Promise<void> {
    await this.instance?.identify(toSwitchyardContext(next));
  }

  async onClose(): Promise<void> {
    await this.instance?.close();
  }

  track(trackingEventName: string, _context: EvaluationContext, details: TrackingEventDetails = {}): void {
    const { value, ...properties } = details;
    this.instance?.track(trackingEventName, { value, properties });
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): ResolutionDetails<boolean> {
    return this.resolve(flagKey, defaultValue);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string): ResolutionDetails<string> {
    return this.resolve(flagKey, defaultValue);
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): ResolutionDetails<number> {
    return this.resolve(flagKey, defaultValue);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    return this.resolve(flagKey, defaultValue);
  }

  private resolve<T>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    if (this.instance === undefined) return { value: defaultValue, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' as ErrorCode };
    // The protocol's mapping, shared with the Node provider; its codes are OpenFeature's names.
    return toResolution(this.instance.detail(flagKey, defaultValue)) as ResolutionDetails<T>;
  }
}
