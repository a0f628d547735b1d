/**
 * `@switchyard/sdk-node`: Switchyard feature flags and experiments for Node services, evaluated
 * in process and kept in sync over SSE. See docs/sdk-node.md.
 *
 * @example
 * ```ts
 * import { createClient } from '@switchyard/sdk-node';
 *
 * const client = createClient({ sdkKey: process.env.SWITCHYARD_SDK_KEY!, baseUrl: 'https://switchyard.internal' });
 * await client.ready({ timeoutMs: 2000 });
 * client.boolean('new-checkout', { key: 'user-1', country: 'US' }, false);
 * ```
 *
 * @packageDocumentation
 */
export { SwitchyardClient } from './client';
export { createClient } from './create-client';
export type { ClientEvents, ClientStats, ReadyEvent, StaleEvent, RecoveredEvent, TrackOptions } from './client-events';
export type { ClientOptions } from './options';
export type { ConfigChange, ConfigSource } from './config-store';
export type { EventStats } from './events/processor';
export type { SyncMode } from './sync/synchronizer';
export type { FetchFunction, HttpRequestInit, HttpResponse } from './http/transport';
export type { Listener } from './emitter';
export { SwitchyardError, SwitchyardErrorCode } from './errors';
export { consoleLogger, silentLogger, LogLevel, type Logger } from './logger';
export { SDK_VERSION } from './version';
// Evaluation vocabulary from core, so callers need not depend on it to read a detail.
export { Reason, ErrorCode, type EvaluationDetail, type EvaluationContext, type ConfigDocument, type JsonValue } from '@switchyard/core';
