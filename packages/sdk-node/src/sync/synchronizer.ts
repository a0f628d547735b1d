import type { ApplyResult, ConfigChange, ConfigStore } from '../config-store';
import { SwitchyardError } from '../errors';
import type { Transport } from '../http/transport';
import type { Logger } from '../logger';
import type { ResolvedOptions } from '../options';
import { Backoff } from './backoff';
import { ConfigFetcher, type FetchConfigResult } from './config-fetcher';
import { Poller } from './poller';
import { StreamConnection, type StreamFailure } from './stream';
import { Watchdog } from './watchdog';

/** What the synchronizer reports to the client. */
export interface SyncCallbacks {
  /** The store took a new config. */
  applied(change: ConfigChange): void;
  /** Nothing heard from the server for `staleAfterMs` (after having been in sync). */
  stale(info: { silentForMs: number; lastActivityAt: number }): void;
  /** Heard from the server again after `stale`. */
  recovered(): void;
  /** Something failed; sync goes on. */
  error(err: SwitchyardError): void;
  /** Sync stopped for good (the key was refused). */
  fatal(err: SwitchyardError): void;
  /** A stream connection opened: the server is reachable. */
  reconnected(): void;
}

/**
 * How sync currently runs (`'offline'` in {@link ClientStats} for an offline client).
 *
 * @example
 * ```ts
 * if (client.stats().sync === 'polling') log.warn('the stream was refused (proxy?); polling instead');
 * ```
 */
export type SyncMode = 'streaming' | 'polling' | 'stopped';

/** A connection that lived this long earns a fresh backoff even without data (e.g. an idle resume). */
const HEALTHY_CONNECTION_MS = 60_000;
/** Reconciles closer together than this are merged: a burst of gaps needs one fetch. */
const RECONCILE_SPACING_MS = 1000;
const MAX_RECONCILE_SPACING_MS = 30_000;

/**
 * Keeps the config store in sync with the server: SSE stream by default, polling when the stream
 * is refused or disabled, a `GET /sdk/v1/config` to reconcile whenever a patch cannot apply, and
 * a silence watchdog that reports staleness and replaces hung connections.
 */
export class Synchronizer {
  private mode: SyncMode = 'stopped';
  private conn: StreamConnection | null = null;
  private connectedAt = 0;
  private gotEvent = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;
  private readonly fetcher: ConfigFetcher;
  private readonly poller: Poller;
  private readonly watchdog: Watchdog;
  private isStale = false;
  private reconciling: Promise<void> | null = null;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private lastReconcileAt = 0;
  /** Patches that arrived while a reconcile was in flight, applied after it. */
  private buffered: { data: string }[] = [];
  /** The highest version the server announced (event ids, patch versions): reconcile until held. */
  private wantVersion = -1;
  private reconcileFailures = 0;
  private readonly abort = new AbortController();

  constructor(
    private readonly options: ResolvedOptions,
    private readonly store: ConfigStore,
    private readonly transport: Transport,
    private readonly callbacks: SyncCallbacks,
  ) {
    this.backoff = new Backoff(options.reconnect);
    this.fetcher = new ConfigFetcher(transport, options.baseUrl);
    this.poller = new Poller(this.fetcher, options.pollIntervalMs, (r) => this.onPoll(r), this.abort.signal);
    this.watchdog = new Watchdog(options.staleAfterMs, (ms) => this.onSilence(ms));
  }

  get currentMode(): SyncMode {
    return this.mode;
  }

  private get log(): Logger {
    return this.options.logger;
  }

  start(): void {
    if (this.mode !== 'stopped') return;
    this.watchdog.start();
    if (this.options.stream) {
      this.mode = 'streaming';
      this.connect();
    } else {
      this.mode = 'polling';
      this.poller.start();
    }
  }

  stop(): void {
    this.mode = 'stopped';
    this.abort.abort();
    this.conn?.close();
    this.conn = null;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    if (this.reconcileTimer !== null) clearTimeout(this.reconcileTimer);
    this.reconnectTimer = this.reconcileTimer = null;
    this.poller.stop();
    this.watchdog.stop();
  }

  // ---- stream ---------------------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = null;
    if (this.mode !== 'streaming') return;
    const lastEventId = this.store.fromServer ? String(this.store.version) : null;
    this.connectedAt = 0;
    this.gotEvent = false;
    this.log.debug('stream connecting', { lastEventId });
    const conn: StreamConnection = new StreamConnection({
      transport: this.transport,
      baseUrl: this.options.streamBaseUrl,
      lastEventId,
      headersTimeoutMs: this.options.requestTimeoutMs,
      onInternalError: (err) => this.log.error('internal error handling stream data', { error: String(err), stack: (err as Error)?.stack }),
      handlers: {
        onOpen: () => {
          this.connectedAt = Date.now();
          this.log.debug('stream open');
          this.callbacks.reconnected();
        },
        onActivity: () => this.heard(),
        onPut: (data) => {
          this.gotEvent = true;
          this.onDocumentData(data, 'stream put');
        },
        onPatch: (data, id) => {
          this.gotEvent = true;
          if (/^\d+$/.test(id)) this.wantVersion = Math.max(this.wantVersion, Number(id));
          this.onPatchData(data);
        },
        onFailure: (f) => {
          if (this.conn === conn) this.conn = null;
          this.onStreamFailure(f);
        },
      },
    });
    this.conn = conn;
  }

  private onStreamFailure(f: StreamFailure): void {
    if (this.mode !== 'streaming') return;
    if (f.kind === 'unauthorized') {
      this.fatal(f.status);
      return;
    }
    if (f.kind === 'refused') {
      this.log.warn('stream refused; falling back to polling', {
        status: f.status,
        reason: f.message,
        pollIntervalMs: this.options.pollIntervalMs,
      });
      this.mode = 'polling';
      this.poller.start();
      return;
    }
    const err = new SwitchyardError('STREAM_ERROR', `stream failed: ${f.message}`, f.status === null ? {} : { status: f.status });
    this.log.warn('stream failed; reconnecting with backoff', { status: f.status, reason: f.message });
    this.callbacks.error(err);
    // Without a config yet, a plain GET may get one sooner than the next stream attempt.
    if (!this.store.fromServer) this.reconcile('no config yet');
    this.scheduleReconnect(f.retryAfterMs);
  }

  private scheduleReconnect(retryAfterMs: number | null): void {
    if (this.mode !== 'streaming' || this.reconnectTimer !== null) return;
    if (this.gotEvent || (this.connectedAt > 0 && Date.now() - this.connectedAt >= HEALTHY_CONNECTION_MS)) this.backoff.reset();
    const delay = Math.max(retryAfterMs ?? 0, this.backoff.next());
    this.log.debug('stream reconnect scheduled', { delayMs: delay, attempt: this.backoff.attempts });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    this.reconnectTimer.unref();
  }

  // ---- data -----------------------------------------------------------------------------

  private heard(): void {
    this.watchdog.touch();
    if (this.isStale && this.store.fromServer) {
      this.isStale = false;
      this.log.info('config sync recovered');
      this.callbacks.recovered();
    }
  }

  private onDocumentData(data: string, what: string): void {
    let body: unknown;
    try {
      body = JSON.parse(data);
    } catch (err) {
      this.invalid(`${what}: malformed JSON: ${(err as Error).message}`);
      this.reconcile('malformed put');
      return;
    }
    this.handle(this.store.replace(body, 'server'), what);
  }

  private onPatchData(data: string): void {
    if (this.reconciling !== null) {
      this.buffered.push({ data });
      return;
    }
    this.applyPatchData(data, true);
  }

  private applyPatchData(data: string, mayReconcile: boolean): void {
    let body: unknown;
    try {
      body = JSON.parse(data);
    } catch (err) {
      // The state is kept; the version this patch carried is fetched whole instead.
      this.invalid(`stream patch: malformed JSON: ${(err as Error).message}`);
      if (mayReconcile) this.reconcile('malformed patch');
      return;
    }
    const r = this.store.patch(body);
    if (r.status === 'gap' && mayReconcile) {
      this.log.info('patch does not follow the held version; fetching the config', { patchVersion: r.version, expected: r.expected });
      this.buffered.push({ data });
      this.reconcile('version gap');
      return;
    }
    this.handle(r, 'stream patch');
    if (r.status === 'invalid' && mayReconcile) this.reconcile('invalid patch');
  }

  private handle(r: ApplyResult, what: string): void {
    switch (r.status) {
      case 'applied':
        this.log.debug('config applied', { from: what, version: r.change.version, keys: r.change.keys.length });
        this.callbacks.applied(r.change);
        this.heard();
        break;
      case 'ignored':
        this.log.debug('config version not newer than the held one; ignored', { from: what, version: r.version, held: this.store.version });
        break;
      case 'gap':
        this.log.debug('patch still does not follow the held version', { from: what, version: r.version });
        break;
      case 'invalid':
        this.invalid(`${what}: ${r.error}`);
        break;
    }
  }

  private invalid(message: string): void {
    this.log.error('config data ignored; keeping the current config', { reason: message, version: this.store.version });
    this.callbacks.error(new SwitchyardError('INVALID_CONFIG', message));
  }

  // ---- reconcile and poll -----------------------------------------------------------------

  /** Fetches the whole document (single flight, spaced out), then applies buffered patches. */
  private reconcile(why: string): void {
    if (this.mode === 'stopped' || this.reconciling !== null || this.reconcileTimer !== null) return;
    const spacing = Math.min(MAX_RECONCILE_SPACING_MS, RECONCILE_SPACING_MS * 2 ** Math.min(this.reconcileFailures, 16));
    const wait = this.lastReconcileAt + spacing - Date.now();
    if (wait > 0) {
      this.reconcileTimer = setTimeout(() => {
        this.reconcileTimer = null;
        this.reconcile(why);
      }, wait);
      this.reconcileTimer.unref();
      return;
    }
    this.lastReconcileAt = Date.now();
    this.log.debug('reconciling with GET /sdk/v1/config', { why });
    const run = (async () => {
      const r = await this.fetcher.fetch(null, this.abort.signal);
      if (this.mode === 'stopped') return;
      this.onFetched(r, 'reconcile');
      const patches = this.buffered;
      this.buffered = [];
      for (const p of patches) this.applyPatchData(p.data, false);
      // Still behind what the server announced (the fetch failed, or served an older instance's
      // view): try again, further apart each time.
      const held = this.store.fromServer ? (this.store.version ?? -1) : -1;
      if (held < this.wantVersion) {
        this.reconcileFailures++;
      } else {
        this.reconcileFailures = 0;
      }
    })();
    this.reconciling = run
      .catch((err: unknown) => this.log.error('reconcile failed unexpectedly', { error: String(err) }))
      .finally(() => {
        this.reconciling = null;
      });
    // Retried once `reconciling` is cleared (the spacing grows with each failure).
    void this.reconciling.then(() => {
      const held = this.store.fromServer ? (this.store.version ?? -1) : -1;
      if (held < this.wantVersion) this.reconcile('still behind');
    });
  }

  private onPoll(r: FetchConfigResult): number | null {
    if (this.mode !== 'polling') return null;
    this.onFetched(r, 'poll');
    if (r.kind === 'unauthorized') return null;
    return r.kind === 'error' ? r.retryAfterMs : 0;
  }

  private onFetched(r: FetchConfigResult, what: string): void {
    switch (r.kind) {
      case 'document':
        this.heard();
        this.handle(this.store.replace(r.body, 'server'), what);
        break;
      case 'not-modified':
        this.heard();
        break;
      case 'unauthorized':
        this.fatal(r.status);
        break;
      case 'error':
        if (r.status === 200) {
          this.invalid(`${what}: ${r.message}`);
        } else {
          this.log.warn('GET /sdk/v1/config failed', { from: what, status: r.status, reason: r.message });
          this.callbacks.error(
            new SwitchyardError('FETCH_ERROR', `${what} failed: ${r.message}`, r.status === null ? {} : { status: r.status }),
          );
        }
        break;
    }
  }

  private onSilence(silentForMs: number): void {
    if (this.mode === 'stopped') return;
    // Polling is silent between polls by design: stale means two polls' worth of nothing.
    if (this.mode === 'polling' && silentForMs < 2 * this.options.pollIntervalMs) return;
    if (!this.isStale && this.store.fromServer) {
      this.isStale = true;
      this.log.warn('no data from the server; config may be stale', { silentForMs });
      this.callbacks.stale({ silentForMs, lastActivityAt: this.watchdog.lastActivityAt });
    }
    if (this.mode === 'streaming' && this.conn !== null) {
      // A connection that says nothing, not even heartbeats, is as good as dead (half-open TCP,
      // a proxy holding the request): replace it.
      this.log.warn('stream silent; reconnecting', { silentForMs });
      this.conn.close();
      this.conn = null;
      this.scheduleReconnect(null);
    }
  }

  private fatal(status: number): void {
    this.log.error('the server refused the SDK key; sync stopped', { status });
    this.stop();
    this.callbacks.fatal(
      new SwitchyardError('UNAUTHORIZED', `the server refused the SDK key (HTTP ${status}); check that it is a server key`, { status }),
    );
  }
}
