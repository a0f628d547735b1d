import type { SwitchyardError } from './errors';
import type { Context, FlagDetail } from './types';

/** A detail as a source delivers it; `unit` is the experiment's unit id when it is not `context.key`. */
export type SourceDetail = FlagDetail & { unitId?: string };

/** Every flag evaluated for one context at one config version; `null` = deleted (patches only). */
export interface Snapshot {
  version: number;
  flags: Record<string, SourceDetail | null>;
}

/** Where a source delivers pushed results. */
export interface Sink {
  /** New results; `patch` means only the changed flags are in `snapshot`. */
  data(snapshot: Snapshot, patch?: boolean): void;
  error(error: SwitchyardError): void;
  /** The stream (re)connected or showed a sign of life (data or a heartbeat): the server is reachable. */
  alive(): void;
}

/** Timeouts a source's requests and stream follow. */
export interface NetOptions {
  /** Each request, and each stream open until it is established. */
  requestTimeoutMs: number;
  /** Silence after which an open stream is replaced. */
  staleAfterMs: number;
}

/**
 * What the client needs from a mode: remote (the server evaluates) or local (core evaluates
 * in the page). The client does the rest: caching, defaults, exposures, events.
 */
export interface Source {
  /** Results available at once without I/O (local mode after the config is in). */
  peek?(context: Context): Snapshot | undefined;
  /** Fetches fresh results for a context. */
  load(context: Context): Promise<Snapshot>;
  /** Starts (or retargets) pushing results for a context to `sink`. */
  watch(context: Context, sink: Sink): void;
  close(): void;
}
