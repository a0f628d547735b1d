/**
 * `@switchyard/core/protocol`: the SDK wire protocol in one place, shared by the server, the
 * Node SDK and the browser SDK. No zod, no evaluator: a remote-mode browser bundle takes only
 * what it uses.
 *
 * @packageDocumentation
 */
export { unitIdOf, toUnitId, experimentUnitOf, DEFAULT_BUCKET_BY, type ExperimentUnitSource } from './unit';
export { eventId, isEventId, eventIdTime } from './event-id';
export {
  toWire,
  fromWire,
  EventType,
  type WireDetail,
  type WireEvaluation,
  type WireEvent,
  type WireConfigDocument,
  type WireConfigPatch,
  type DetailWithUnit,
} from './wire';
export { classifyBatchResponse, classifyBatchFailure, splitBatch, parseRetryAfter, MAX_EVENTS_PER_BATCH, type BatchOutcome } from './batch';
export {
  SseEvent,
  HEARTBEAT_INTERVAL_MS,
  MISSED_HEARTBEATS_BEFORE_STALE,
  LAST_EVENT_ID_PARAM,
  STALE_AFTER_MS,
  resumeVersion,
  patchAction,
} from './sse';
export { configEtag, etagMatches } from './etag';
export { toResolution, ERROR_MESSAGES, type Resolution } from './openfeature';
export { SwitchyardError, SwitchyardErrorCode, EVENT_ERROR_CODES } from './errors';
export type { EvaluationDetail, Reason, ErrorCode } from '../reasons';
export type { EvaluationContext } from '../types';
