import type { SwitchyardError } from './errors';
import type { ConfigChange, ConfigSource } from './config-store';
import type { EventStats } from './events/processor';
import type { SyncMode } from './sync/synchronizer';

// The client's public vocabulary: what its events carry, what track() takes, what stats() reports.

/**
 * Payload of `'ready'`.
 *
 * @example
 * ```ts
 * client.on('ready', ({ version, source }) => log.info({ version, source }, 'flags loaded'));
 * ```
 */
export interface ReadyEvent {
  /** Version of the first config, `null` offline without a bootstrap. */
  version: number | null;
  /** Where it came from: `'offline'` means an offline client with neither. */
  source: ConfigSource | 'offline';
}

/**
 * Payload of `'stale'`.
 *
 * @example
 * ```ts
 * client.on('stale', ({ silentForMs }) => log.warn(`Switchyard silent for ${silentForMs} ms; serving the last config`));
 * ```
 */
export interface StaleEvent {
  /** How long nothing has been heard from the server. */
  silentForMs: number;
  /** When something was last heard (epoch ms). */
  lastActivityAt: number;
}

/**
 * Payload of `'recovered'`.
 *
 * @example
 * ```ts
 * client.on('recovered', ({ version }) => log.info({ version }, 'Switchyard sync recovered'));
 * ```
 */
export interface RecoveredEvent {
  version: number | null;
}

/**
 * Every event a client emits, with its payload.
 *
 * - `ready`: the first config is in (once).
 * - `change`: a newer config replaced the held one; `keys` are the flags and experiments whose
 *   evaluation may differ.
 * - `stale`: nothing heard from the server for `staleAfterMs` (default 45 s). Evaluation goes on
 *   with the config held.
 * - `recovered`: heard from the server again after `stale`.
 * - `error`: something failed (stream, fetch, invalid config, rejected events); the client goes on
 *   unless the code is `UNAUTHORIZED`. Emitting `error` with no listener is harmless.
 *
 * @example
 * ```ts
 * const onChange = (change: ClientEvents['change']) => cache.invalidate(change.keys);
 * client.on('change', onChange);
 * ```
 */
export interface ClientEvents {
  ready: ReadyEvent;
  change: ConfigChange;
  stale: StaleEvent;
  recovered: RecoveredEvent;
  error: SwitchyardError;
}

/**
 * Options of {@link SwitchyardClient.track}.
 *
 * @example
 * ```ts
 * const options: TrackOptions = { value: 42.5, properties: { currency: 'EUR' }, unitId: company.id };
 * client.track('purchase', { key: user.id }, options);
 * ```
 */
export interface TrackOptions {
  /** The metric value (e.g. revenue); must be a finite number. */
  value?: number | undefined;
  /** Extra data, stored with the event; snapshotted as JSON when tracked. */
  properties?: Record<string, unknown> | undefined;
  /** When it happened: a Date, epoch milliseconds or an ISO 8601 string. Default: now. */
  timestamp?: Date | number | string | undefined;
  /**
   * The unit the event belongs to. Default: `context.key`. Set it when an experiment buckets by
   * another attribute (e.g. `company_id`), so the event joins that experiment's exposures.
   */
  unitId?: string | undefined;
}

/**
 * What {@link SwitchyardClient.stats} reports.
 *
 * @example
 * ```ts
 * const { configVersion, sync, stale, events } = client.stats();
 * health.report({ configVersion, sync, stale, eventsDropped: events.droppedOverflow + events.droppedRejected });
 * ```
 */
export interface ClientStats {
  /** The held config version, or `null`. */
  configVersion: number | null;
  configSource: ConfigSource | null;
  sync: SyncMode | 'offline';
  stale: boolean;
  events: EventStats;
  /** (experiment, unit) pairs currently remembered for exposure dedupe. */
  exposuresRemembered: number;
}
