import type { ServerResponse } from 'node:http';
import { evaluateAll, type ConfigPatch, type EvaluationContext } from '@switchyard/core';
import type { Logger } from 'pino';
import type { ConfigState } from './config-state';
import { experimentUnitOf, SseEvent } from '@switchyard/core/protocol';
import { sseFrame, toWire, type WireDetail } from './wire';

/** Every flag and experiment evaluated for one context, in wire form. */
export function evaluateForWire(config: ConfigState, context: EvaluationContext): Record<string, WireDetail> {
  const out: Record<string, WireDetail> = {};
  const experiments = config.document.experiments;
  for (const [k, d] of Object.entries(evaluateAll(config.compiled(), context))) {
    out[k] = toWire(d, d.inExperiment === true ? experimentUnitOf(experiments[d.experiment ?? k], context) : null);
  }
  return out;
}

/** How long a client waits before reconnecting, sent as the stream's `retry:` hint. */
export const RETRY_HINT_MS = 2000;

interface Client {
  res: ServerResponse;
  /** `null` for a server-key config stream; the context for a remote-evaluation stream. */
  context: EvaluationContext | null;
  contextKey: string;
  last: Record<string, WireDetail> | null;
  /** The API key the stream was opened with: revoking it ends the stream. */
  keyId: string | null;
}

export interface StreamHubOptions {
  heartbeatMs: number;
  /** A client whose unsent buffer passes this is dropped; it reconnects and resumes. */
  maxBufferBytes: number;
  /** Patches kept in memory for `Last-Event-ID` replay. */
  replayCapacity: number;
}

/**
 * Fans config changes out to SSE clients. Each patch is serialized once and the same string is
 * written to every config client; remote-evaluation clients get their re-evaluated flags (one
 * evaluation per distinct context per change). Writes never wait: a client that cannot keep up
 * is dropped instead of growing memory or slowing the others.
 */
/**
 * Ends a stream and its connection at shutdown: left open for keep-alive, the EventSource's
 * reconnect would arrive on it (the listening socket no longer matters to a kept-alive
 * connection), keeping the HTTP server's close() waiting.
 */
function endAndHangUp(res: ServerResponse): void {
  res.end(() => res.socket?.end());
}

export class StreamHub {
  private readonly clients = new Set<Client>();
  /** Set by close(): shutdown has begun. */
  private closed = false;
  private readonly ring: { version: number; frame: string }[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private putCache: { version: number; frame: string } | null = null;
  /** Resumes (`Last-Event-ID`) the replay buffer no longer covered: those clients got a whole `put`. */
  replayMisses = 0;
  private jsonCache: { version: number; json: string } | null = null;

  constructor(
    private readonly config: ConfigState,
    private readonly options: StreamHubOptions,
    private readonly logger: Logger,
    private readonly onCount?: (delta: number) => void,
  ) {
    this.unsubscribe = config.subscribe((patch) => this.broadcast(patch));
    // A named event, which browser JavaScript can see (it cannot see comments), with the
    // comment line older clients count as activity. Data is the current config version.
    this.heartbeat = setInterval(
      () => this.writeAll(`: heartbeat\nevent: ${SseEvent.HEARTBEAT}\ndata: ${this.config.version}\n\n`),
      options.heartbeatMs,
    );
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** The current document as JSON, serialized once per version (config endpoint and `put`). */
  documentJson(): string {
    const doc = this.config.document;
    if (this.jsonCache === null || this.jsonCache.version !== doc.version)
      this.jsonCache = { version: doc.version, json: JSON.stringify(doc) };
    return this.jsonCache.json;
  }

  /** The `put` frame of the current version. */
  putFrame(): string {
    const version = this.config.version;
    if (this.putCache === null || this.putCache.version !== version)
      this.putCache = { version, frame: `id: ${version}\nevent: put\ndata: ${this.documentJson()}\n\n` };
    return this.putCache.frame;
  }

  /** Starts a server-key config stream: replay since `lastEventId` when the ring still has it, else a `put`. */
  openConfigStream(res: ServerResponse, lastEventId: number | null, keyId: string | null = null): void {
    const client: Client = { res, context: null, contextKey: '', last: null, keyId };
    let first = `retry: ${RETRY_HINT_MS}\n\n`;
    const current = this.config.version;
    const replay = lastEventId === null ? null : this.replaySince(lastEventId, current);
    if (lastEventId !== null && replay === null) this.replayMisses++;
    first += replay ?? this.putFrame();
    this.attach(client, first);
  }

  /** Starts a client-key stream that pushes re-evaluated results for one context. */
  openRemoteStream(res: ServerResponse, context: EvaluationContext, keyId: string | null = null): void {
    const compiled = this.config.compiled();
    const flags = this.evaluate(context);
    const client: Client = { res, context, contextKey: JSON.stringify(context), last: flags, keyId };
    this.attach(client, `retry: ${RETRY_HINT_MS}\n\n` + sseFrame('put', compiled.version, { version: compiled.version, flags }));
  }

  /**
   * Ends the streams opened with any of these API keys (revoked, or their creator deleted): a
   * revoked key must stop receiving rules at once, not at its next reconnect. Returns how many.
   */
  endStreamsOf(keyIds: ReadonlySet<string>): number {
    let ended = 0;
    for (const c of this.clients) {
      if (c.keyId === null || !keyIds.has(c.keyId)) continue;
      this.clients.delete(c);
      this.onCount?.(-1);
      endAndHangUp(c.res);
      ended++;
    }
    return ended;
  }

  /** Ends every stream (shutdown), and any opened after this. */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const c of this.clients) endAndHangUp(c.res);
    this.clients.clear();
  }

  private replaySince(lastEventId: number, current: number): string | null {
    if (lastEventId === current) return '';
    if (lastEventId > current) return null;
    const first = this.ring[0];
    if (first === undefined || first.version > lastEventId + 1) return null;
    let out = '';
    for (const p of this.ring) if (p.version > lastEventId) out += p.frame;
    return out;
  }

  private attach(client: Client, first: string): void {
    const { res } = client;
    // A client that hung up while the request was being authenticated already fired 'close':
    // registered now, it would never be removed.
    if (res.destroyed || res.writableEnded) return;
    // A stream whose request was still being authenticated when the server began shutting down
    // would otherwise hold the HTTP server's close() open until the client goes away.
    if (this.closed) {
      endAndHangUp(res);
      return;
    }
    this.clients.add(client);
    this.onCount?.(1);
    res.on('close', () => {
      if (this.clients.delete(client)) this.onCount?.(-1);
    });
    this.write(client, first);
  }

  private write(client: Client, chunk: string): void {
    const { res } = client;
    if (res.destroyed || res.writableEnded) return;
    // Judge the backlog left by earlier writes, so one large frame never drops a healthy client.
    if (res.writableLength > this.options.maxBufferBytes) {
      this.logger.warn({ buffered: res.writableLength }, 'dropping a slow SSE client');
      res.destroy();
      return;
    }
    if (chunk === '') return;
    // Corked, the frame goes to the socket inside this loop rather than on a later tick,
    // after whatever request triggered the broadcast has finished.
    const socket = res.socket;
    socket?.cork();
    res.write(chunk);
    socket?.uncork();
  }

  private writeAll(chunk: string): void {
    for (const c of this.clients) this.write(c, chunk);
  }

  private evaluate(context: EvaluationContext): Record<string, WireDetail> {
    return evaluateForWire(this.config, context);
  }

  private broadcast(patch: ConfigPatch): void {
    const frame = sseFrame('patch', patch.version, patch);
    this.ring.push({ version: patch.version, frame });
    if (this.ring.length > this.options.replayCapacity) this.ring.shift();
    const perContext = new Map<string, Record<string, WireDetail>>();
    for (const c of this.clients) {
      if (c.context === null) {
        this.write(c, frame);
        continue;
      }
      let flags = perContext.get(c.contextKey);
      if (flags === undefined) {
        flags = this.evaluate(c.context);
        perContext.set(c.contextKey, flags);
      }
      const changed: Record<string, WireDetail | null> = {};
      let any = false;
      for (const [k, w] of Object.entries(flags)) {
        const prev = c.last?.[k];
        if (prev === undefined || JSON.stringify(prev) !== JSON.stringify(w)) {
          changed[k] = w;
          any = true;
        }
      }
      for (const k of Object.keys(c.last ?? {}))
        if (!(k in flags)) {
          changed[k] = null;
          any = true;
        }
      c.last = flags;
      if (any) this.write(c, sseFrame('patch', patch.version, { version: patch.version, flags: changed }));
    }
  }
}
