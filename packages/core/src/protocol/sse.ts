/**
 * Names of the events of `GET /sdk/v1/stream`. `put` carries the whole state on connect,
 * `patch` what changed (`id:` is the config version of both), and `heartbeat` (data: the
 * current config version) proves the connection is alive: browser JavaScript cannot see the
 * SSE comment heartbeat that older servers send, but it can see a named event.
 *
 * @example
 * ```ts
 * source.addEventListener(SseEvent.HEARTBEAT, () => watchdog.touch());
 * ```
 */
export const SseEvent = {
  PUT: 'put',
  PATCH: 'patch',
  HEARTBEAT: 'heartbeat',
} as const;

/** One of {@link SseEvent}. */
export type SseEvent = (typeof SseEvent)[keyof typeof SseEvent];

/** How often the server sends a heartbeat by default. */
export const HEARTBEAT_INTERVAL_MS = 15_000;

/** Missed heartbeats after which a client calls its stream stale and replaces the connection. */
export const MISSED_HEARTBEATS_BEFORE_STALE = 3;

/** Silence after which a stream is stale by default: {@link MISSED_HEARTBEATS_BEFORE_STALE} heartbeats. */
export const STALE_AFTER_MS = 45_000;

/** The query parameter that carries the held version where a `Last-Event-ID` header cannot be set (browser EventSource on a fresh object). */
export const LAST_EVENT_ID_PARAM = 'last_event_id';

/**
 * The version to resume from, from a `Last-Event-ID` header or query value: a non-negative
 * integer, or `null` (then the server sends a `put`).
 *
 * @example
 * ```ts
 * resumeVersion('42'); // 42
 * resumeVersion('x'); // null
 * ```
 */
export function resumeVersion(raw: string | null | undefined): number | null {
  return raw !== null && raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

/**
 * What a client does with a patch of version `patch` while holding `held` (`null`: nothing
 * yet). Resume rule: a patch applies only on top of the version just before it; an older or
 * equal one was already applied; a later one means patches were missed, and the client fetches
 * the whole document (`GET /sdk/v1/config`) instead.
 *
 * @example
 * ```ts
 * patchAction(4, 5); // 'apply'
 * patchAction(4, 7); // 'refetch'
 * patchAction(4, 4); // 'ignore'
 * ```
 */
export function patchAction(held: number | null, patch: number): 'apply' | 'ignore' | 'refetch' {
  if (held === null) return 'refetch';
  if (patch <= held) return 'ignore';
  return patch === held + 1 ? 'apply' : 'refetch';
}
