import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** One parsed server-sent event. */
export interface SseEvent {
  event: string;
  id: string | null;
  data: any;
}

/**
 * A minimal SSE reader over node:http, so tests see exactly what is on the wire: events,
 * ids, comments and named heartbeats, and the `retry:` hint.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Named `heartbeat` events (their data), kept apart so tests of put/patch order see only those. */
  readonly heartbeats: unknown[] = [];
  retry: number | null = null;
  status = 0;
  headers: IncomingMessage['headers'] = {};
  closed = false;
  private req: ClientRequest | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly url: string,
    private readonly headersToSend: Record<string, string> = {},
  ) {}

  open(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.req = request(this.url, { headers: { accept: 'text/event-stream', ...this.headersToSend } }, (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            this.parse(buf.slice(0, i));
            buf = buf.slice(i + 2);
          }
          this.notify();
        });
        res.on('end', () => {
          this.closed = true;
          this.notify();
        });
        res.on('error', () => {
          this.closed = true;
          this.notify();
        });
        resolve(this);
      });
      this.req.on('error', (e) => {
        this.closed = true;
        this.notify();
        reject(e);
      });
      this.req.end();
    });
  }

  private parse(block: string): void {
    let event = 'message';
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      const value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') this.retry = Number(value);
    }
    if (data.length === 0) return;
    const parsed = JSON.parse(data.join('\n')) as unknown;
    if (event === 'heartbeat') this.heartbeats.push(parsed);
    else this.events.push({ event, id, data: parsed });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `predicate` holds (checked on every chunk) or fails after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`SSE condition not met in ${timeoutMs} ms; events: ${JSON.stringify(this.events.map((e) => [e.event, e.id]))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.req?.destroy();
  }
}
