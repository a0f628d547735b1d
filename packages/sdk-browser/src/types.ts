import type { EvaluationContext, EvaluationDetail } from '@switchyard/core';
import type { SwitchyardError } from './errors';

/**
 * Who flags are evaluated for: `key` identifies the unit (user, device, account) and is the
 * `unit_id` of every event; other attributes feed targeting rules.
 *
 * @example
 * ```ts
 * const context: Context = { key: 'user-1', plan: 'pro', country: 'US' };
 * ```
 */
export type Context = EvaluationContext;

/**
 * One evaluation: the value served, the variant (`null` when the caller's default was returned),
 * the reason (OpenFeature's names) and, on errors, an error code. Never thrown, always returned.
 *
 * @example
 * ```ts
 * const d: FlagDetail<boolean> = client.detail('new-checkout', false);
 * if (d.reason === 'ERROR') console.warn(d.errorCode);
 * ```
 */
export type FlagDetail<T = unknown> = EvaluationDetail<T>;

/**
 * Where a client's values come from right now.
 *
 * - `loading`: nothing yet; evaluations return the caller's default (`PROVIDER_NOT_READY`).
 * - `cached`: last session's values from localStorage (reason `CACHED`).
 * - `ready`: fresh values from the server, kept current by the stream.
 * - `stale`: the stream is lost; the last values are served (reason `STALE`) while it reconnects.
 *
 * @example
 * ```ts
 * badge.hidden = client.status !== 'stale';
 * ```
 */
export type ClientStatus = 'loading' | 'cached' | 'ready' | 'stale';

/**
 * Options both modes share. The names are the Node SDK's (`stream`, `events`,
 * `requestTimeoutMs`, `staleAfterMs`, `closeTimeoutMs`).
 *
 * @example
 * ```ts
 * const common: ClientOptions = { baseUrl: 'https://flags.example.com', context: { key: 'user-1' }, events: { flushIntervalMs: 5000 } };
 * ```
 */
export interface ClientOptions {
  /** The Switchyard server's origin, e.g. `https://flags.example.com` (no trailing `/sdk/v1`). */
  baseUrl: string;
  /** The context to evaluate for; change it later with `identify()`. */
  context: Context;
  /** Keep values current over SSE (default `true`). With `false` values change only on `identify()`. */
  stream?: boolean;
  /**
   * Where warm-start values (and events a closing page could not send) are kept. Defaults to
   * `localStorage`; `null` turns warm start off.
   */
  storage?: Storage | null;
  /** Exposure and track events. */
  events?: {
    /** Oldest events are dropped beyond this many (default 1000). */
    capacity?: number;
    /** Events per request; this many queued are sent at once (default 50). */
    batchSize?: number;
    /** Send queued events at most this long after the first one was queued (default 2000 ms). */
    flushIntervalMs?: number;
  };
  /** Timeout of each request, and of opening the stream (default 10 s). */
  requestTimeoutMs?: number;
  /** Replace the stream after this long without data or a heartbeat (default 45 s, three missed heartbeats). */
  staleAfterMs?: number;
  /** How long `close()` tries to send queued events before handing the rest to `sendBeacon` (default 2 s). */
  closeTimeoutMs?: number;
  /** @deprecated Use `stream`. */
  streaming?: boolean;
  /** @deprecated Use `events.flushIntervalMs`. */
  flushIntervalMs?: number;
  /** @deprecated Use `events.batchSize`. */
  flushAt?: number;
  /** @deprecated Use `events.capacity`. */
  maxQueueSize?: number;
}

/**
 * Options of `createBrowserClient`: remote evaluation with a public client key.
 *
 * @example
 * ```ts
 * const options: BrowserClientOptions = { clientKey: 'sy_cli_...', baseUrl: 'https://flags.example.com', context: { key: 'user-1' } };
 * ```
 */
export interface BrowserClientOptions extends ClientOptions {
  /** A client key (`sy_cli_...`): it can only evaluate and send events, never read rules. */
  clientKey: string;
}

/**
 * Options of `createLocalClient` (`@switchyard/sdk-browser/local`): in-page evaluation.
 *
 * @example
 * ```ts
 * const options: LocalClientOptions = { serverKey: 'sy_srv_...', baseUrl: 'https://flags.internal', context: { key: 'agent-7' } };
 * ```
 */
export interface LocalClientOptions extends ClientOptions {
  /**
   * A server key (`sy_srv_...`). It reads the whole config, segment lists included: use local
   * mode only in trusted apps (internal tools, kiosks), never on a public site.
   */
  serverKey: string;
}

/**
 * Extra data of a `track()` event.
 *
 * @example
 * ```ts
 * client.track('purchase', { value: 42.5, properties: { sku: 'A-1' } });
 * ```
 */
export interface TrackData {
  /** A number the experiment's `mean` metrics add up, e.g. revenue. */
  value?: number | undefined;
  /** Free-form properties stored with the event (at most 8 kB as JSON). */
  properties?: Record<string, unknown> | undefined;
}

/**
 * What each client event passes to its listeners: the same events and payloads as the Node SDK.
 *
 * @example
 * ```ts
 * const off = client.on('change', ({ keys }) => keys.includes('new-checkout') && rerender());
 * ```
 */
export interface ClientEvents {
  /** Fresh values arrived for the current context: after start and after `identify()`. */
  ready: { version: number };
  /** The keys whose value, variant or reason changed for the current context, and the new version. */
  change: { keys: string[]; version: number };
  /** The stream was lost or went silent; the last values are served (reason `STALE`) while it reconnects. */
  stale: { silentForMs: number; lastActivityAt: number };
  /** Fresh values arrived again after `stale`. */
  recovered: { version: number };
  /** Something failed; the client keeps serving the values it has. */
  error: SwitchyardError;
}

/**
 * A browser client. Every evaluation method is synchronous, never throws and never does I/O:
 * it reads values the client already holds.
 *
 * @example
 * ```ts
 * const client = createBrowserClient({ clientKey, baseUrl, context: { key: 'user-1' } });
 * await client.ready();
 * if (client.boolean('new-checkout', false)) showNewCheckout();
 * ```
 */
export interface BrowserClient {
  /** Where values come from right now. */
  readonly status: ClientStatus;
  /** The current context. */
  readonly context: Context;
  /**
   * Resolves once fresh values for the current context are in; rejects with a
   * `SwitchyardError` when loading them failed (the client keeps retrying over the stream), or
   * with `TIMEOUT` after `timeoutMs` when one is given.
   */
  ready(options?: { timeoutMs?: number }): Promise<void>;
  /** A boolean flag's value, or `defaultValue`. */
  boolean(key: string, defaultValue: boolean): boolean;
  /** A string flag's value, or `defaultValue`. */
  string(key: string, defaultValue: string): string;
  /** A number flag's value, or `defaultValue`. */
  number(key: string, defaultValue: number): number;
  /** A JSON flag's value, or `defaultValue`. */
  json<T>(key: string, defaultValue: T): T;
  /** The full evaluation: value, variant, reason, rule id, error code. */
  detail<T>(key: string, defaultValue: T): FlagDetail<T>;
  /** The variant served for a flag or experiment, `null` when none (e.g. not enrolled). */
  variant(key: string): string | null;
  /** Every flag and experiment the client holds, evaluated for the current context (no exposures). */
  all(): Record<string, FlagDetail>;
  /** Queues a `track` event for the current context's `key`. */
  track(eventKey: string, data?: TrackData): void;
  /** Switches to another context and loads its values; resolves when they are fresh. */
  identify(context: Context): Promise<void>;
  /** Listens to a client event; returns a function that stops listening. */
  on<E extends keyof ClientEvents>(event: E, listener: (payload: ClientEvents[E]) => void): () => void;
  /** Sends queued events now. */
  flush(): Promise<void>;
  /** Stops the stream, sends queued events (for up to `closeTimeoutMs`, then by beacon) and detaches from the page. */
  close(): Promise<void>;
}
