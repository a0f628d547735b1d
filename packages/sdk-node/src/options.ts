import type { ConfigDocument } from '@switchyard/core';
import { SwitchyardError } from './errors';
import type { FetchFunction } from './http/transport';
import { safeLogger, type Logger } from './logger';

/**
 * Options of {@link createClient}. Only `sdkKey` and `baseUrl` are needed in production; every
 * duration is in milliseconds and has a default chosen for a long-running service.
 *
 * @example
 * ```ts
 * const options: ClientOptions = {
 *   sdkKey: process.env.SWITCHYARD_SDK_KEY!,
 *   baseUrl: 'https://switchyard.internal',
 *   bootstrap: './switchyard-fallback.json',
 *   logger: consoleLogger('warn'),
 * };
 * ```
 */
export interface ClientOptions {
  /** A server key (`X-API-Key`/`Bearer`): it can read the whole config. Not needed offline. */
  sdkKey?: string;
  /** The Switchyard server's root URL, e.g. `https://switchyard.internal`. Not needed offline. */
  baseUrl?: string;
  /** Overrides `baseUrl` for the SSE stream (e.g. a relay that only proxies streams). */
  streamBaseUrl?: string;
  /** Overrides `baseUrl` for event batches (e.g. a separate ingestion host). */
  eventsBaseUrl?: string;
  /**
   * A config document, or the path of a JSON file holding one, served until the server's first
   * config arrives (then replaced by it, whatever the versions). `ready()` resolves at once.
   */
  bootstrap?: ConfigDocument | string;
  /** No network at all: serve `bootstrap` (or nothing), send no events. For tests and scripts. */
  offline?: boolean;
  /** `false` polls `GET /sdk/v1/config` instead of streaming. Default `true`. */
  stream?: boolean;
  /** Poll period when polling (by choice or because the stream was refused). Default 30 s. */
  pollIntervalMs?: number;
  /** Emit `'stale'` (and reconnect) after this long without any byte from the server. Default 45 s (three missed heartbeats). */
  staleAfterMs?: number;
  /** Stream reconnect backoff: full jitter between 0 and `min(maxDelayMs, initialDelayMs * 2^n)`. Defaults 1 s and 30 s. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Timeout of each config or events request. Default 10 s. */
  requestTimeoutMs?: number;
  /** `ready()`'s timeout when the call gives none. Default 10 s. */
  readyTimeoutMs?: number;
  /** Exposure and track events. */
  events?: {
    /** `false` records nothing and sends nothing. Default `true`. */
    enabled?: boolean;
    /** Queue bound; when full the oldest event is dropped and counted. Default 10,000. */
    capacity?: number;
    /** Events per request (the server takes at most 1,000). Default 500. */
    batchSize?: number;
    /** A batch is sent at least this often while events are queued. Default 2 s. */
    flushIntervalMs?: number;
    /** Retry backoff for failed batches (network, 5xx, 429 without `Retry-After`). Defaults 1 s and 30 s. */
    retry?: { initialDelayMs?: number; maxDelayMs?: number };
  };
  /** Distinct (experiment, unit) pairs remembered to send one exposure each. Default 50,000. */
  exposureCacheSize?: number;
  /** How long `close()` keeps trying to deliver queued events. Default 5 s. */
  closeTimeoutMs?: number;
  /** Where the SDK logs. Default: nowhere. */
  logger?: Logger;
  /** The HTTP client. Default: undici's `fetch` over a keep-alive `Agent`. */
  fetch?: FetchFunction;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  sdkKey: string;
  baseUrl: string;
  streamBaseUrl: string;
  eventsBaseUrl: string;
  bootstrap: ConfigDocument | string | undefined;
  offline: boolean;
  stream: boolean;
  pollIntervalMs: number;
  staleAfterMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  requestTimeoutMs: number;
  readyTimeoutMs: number;
  events: {
    enabled: boolean;
    capacity: number;
    batchSize: number;
    flushIntervalMs: number;
    retry: { initialDelayMs: number; maxDelayMs: number };
  };
  exposureCacheSize: number;
  closeTimeoutMs: number;
  logger: Logger;
  fetch: FetchFunction | undefined;
}

/** The server refuses batches larger than this. */
export const MAX_BATCH_SIZE = 1000;

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new SwitchyardError('INVALID_OPTIONS', `${name} must be a finite number >= ${min} (got ${String(value)})`);
  }
  return value;
}

function url(name: string, value: string | undefined, fallback: string): string {
  const v = value ?? fallback;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new SwitchyardError('INVALID_OPTIONS', `${name} must be an http(s) URL (got ${JSON.stringify(v)})`);
  }
  return v.replace(/\/+$/, '');
}

/**
 * Fills in defaults and rejects unusable options up front, where a mistake is cheap to find,
 * rather than as a background failure much later.
 */
export function resolveOptions(o: ClientOptions): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new SwitchyardError('INVALID_OPTIONS', 'createClient needs an options object');
  const offline = o.offline === true;
  if (!offline && (typeof o.sdkKey !== 'string' || o.sdkKey.trim() === '')) {
    throw new SwitchyardError('INVALID_OPTIONS', 'sdkKey is required (a server key) unless offline: true');
  }
  if (!offline && o.baseUrl === undefined) throw new SwitchyardError('INVALID_OPTIONS', 'baseUrl is required unless offline: true');
  const baseUrl = offline && o.baseUrl === undefined ? 'http://offline.invalid' : url('baseUrl', o.baseUrl, '');
  const e = o.events ?? {};
  return {
    sdkKey: o.sdkKey ?? '',
    baseUrl,
    streamBaseUrl: url('streamBaseUrl', o.streamBaseUrl, baseUrl),
    eventsBaseUrl: url('eventsBaseUrl', o.eventsBaseUrl, baseUrl),
    bootstrap: o.bootstrap,
    offline,
    stream: o.stream !== false,
    pollIntervalMs: positive('pollIntervalMs', o.pollIntervalMs, 30_000, 10),
    staleAfterMs: positive('staleAfterMs', o.staleAfterMs, 45_000, 10),
    reconnect: {
      initialDelayMs: positive('reconnect.initialDelayMs', o.reconnect?.initialDelayMs, 1000, 0),
      maxDelayMs: positive('reconnect.maxDelayMs', o.reconnect?.maxDelayMs, 30_000, 0),
    },
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs, 10_000),
    readyTimeoutMs: positive('readyTimeoutMs', o.readyTimeoutMs, 10_000, 0),
    events: {
      enabled: e.enabled !== false,
      capacity: Math.floor(positive('events.capacity', e.capacity, 10_000)),
      batchSize: Math.floor(Math.min(MAX_BATCH_SIZE, positive('events.batchSize', e.batchSize, 500))),
      flushIntervalMs: positive('events.flushIntervalMs', e.flushIntervalMs, 2000, 10),
      retry: {
        initialDelayMs: positive('events.retry.initialDelayMs', e.retry?.initialDelayMs, 1000, 0),
        maxDelayMs: positive('events.retry.maxDelayMs', e.retry?.maxDelayMs, 30_000, 0),
      },
    },
    exposureCacheSize: Math.floor(positive('exposureCacheSize', o.exposureCacheSize, 50_000)),
    closeTimeoutMs: positive('closeTimeoutMs', o.closeTimeoutMs, 5000, 0),
    logger: safeLogger(o.logger),
    fetch: o.fetch,
  };
}
