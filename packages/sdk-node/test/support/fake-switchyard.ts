import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import type { FetchFunction } from '../../src/index';

export const BASE = 'http://switchyard.test';
const encoder = new TextEncoder();

/** One SSE connection the fake server accepted: the test writes frames into it. */
export interface FakeStream {
  headers: Headers;
  /** Writes raw text (frames, comments, or a partial frame). */
  write(text: string): void;
  /** A `put` frame. */
  put(doc: unknown, id?: number): void;
  /** A `patch` frame. */
  patch(patch: { version: number } & Record<string, unknown>, id?: number): void;
  /** Ends the response body normally. */
  end(): void;
  /** Breaks the response body mid-way (a cut connection). */
  cut(): void;
  closed: boolean;
}

/** What a handler returns: a response, or `'hang'` to never answer. */
export type Reply = Response | 'hang';

export interface FakeSwitchyard {
  msw: ReturnType<typeof setupServer>;
  /** `fetch` option for the client: msw intercepts `globalThis.fetch`, not undici's own `fetch`. */
  fetch: FetchFunction;
  streams: FakeStream[];
  /** Requests seen, by route. */
  requests: { stream: Request[]; config: Request[]; events: { request: Request; body: any }[] };
  /** How the next stream request is answered; default: an open event stream. */
  onStream: (req: Request, n: number) => Reply | 'stream';
  onConfig: (req: Request, n: number) => Reply | Promise<Reply>;
  onEvents: (body: any, n: number) => Reply | Promise<Reply>;
  /** Resolves when the `n`th stream connection (1-based) is open. */
  stream(n: number, timeoutMs?: number): Promise<FakeStream>;
  close(): void;
}

export const doc = (version: number, flags: Record<string, unknown> = {}) => ({
  schema_version: 1,
  version,
  flags,
  segments: {},
  experiments: {},
});
export const boolFlag = (key: string, enabled = true) => ({
  key,
  type: 'boolean',
  enabled,
  variants: [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ],
  off_variant: 'off',
  default_serve: { variant: 'on' },
});

/** A scriptable Switchyard server made of msw handlers, for failure modes a real server will not produce on demand. */
export function fakeSwitchyard(): FakeSwitchyard {
  const waiters: (() => void)[] = [];
  const fake: FakeSwitchyard = {
    msw: setupServer(),
    fetch: (url, init) => globalThis.fetch(url, init),
    streams: [],
    requests: { stream: [], config: [], events: [] },
    onStream: () => 'stream',
    onConfig: () => HttpResponse.json({ error: { code: 'INTERNAL_ERROR' } }, { status: 500 }),
    onEvents: (body) => HttpResponse.json({ data: { accepted: body.events.length, duplicates: 0 } }, { status: 202 }),
    async stream(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (fake.streams.length < n) {
        if (Date.now() > deadline) throw new Error(`stream connection #${n} never came (${fake.streams.length} so far)`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 20);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
      return fake.streams[n - 1]!;
    },
    close() {
      for (const s of fake.streams) if (!s.closed) s.end();
      fake.msw.close();
    },
  };
  const hang = () => new Promise<Response>(() => {});
  fake.msw.use(
    http.get(`${BASE}/sdk/v1/stream`, ({ request }) => {
      fake.requests.stream.push(request);
      const reply = fake.onStream(request, fake.requests.stream.length);
      if (reply === 'hang') return hang();
      if (reply !== 'stream') return reply;
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
        },
        cancel() {
          s.closed = true;
        },
      });
      const s: FakeStream = {
        headers: request.headers,
        closed: false,
        write(text) {
          if (!s.closed) controller.enqueue(encoder.encode(text));
        },
        put(d, id) {
          s.write(`id: ${id ?? (d as { version: number }).version}\nevent: put\ndata: ${JSON.stringify(d)}\n\n`);
        },
        patch(p, id) {
          s.write(`id: ${id ?? p.version}\nevent: patch\ndata: ${JSON.stringify(p)}\n\n`);
        },
        end() {
          if (s.closed) return;
          s.closed = true;
          controller.close();
        },
        cut() {
          if (s.closed) return;
          s.closed = true;
          controller.error(new TypeError('terminated'));
        },
      };
      request.signal.addEventListener('abort', () => {
        s.closed = true;
      });
      fake.streams.push(s);
      s.write('retry: 2000\n\n');
      for (const w of waiters.splice(0)) w();
      return new HttpResponse(body, {
        status: 200,
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      });
    }),
    http.get(`${BASE}/sdk/v1/config`, async ({ request }) => {
      fake.requests.config.push(request);
      const reply = await fake.onConfig(request, fake.requests.config.length);
      return reply === 'hang' ? hang() : reply;
    }),
    http.post(`${BASE}/sdk/v1/events`, async ({ request }) => {
      const body = await request.clone().json();
      fake.requests.events.push({ request, body });
      const reply = await fake.onEvents(body, fake.requests.events.length);
      return reply === 'hang' ? hang() : reply;
    }),
  );
  fake.msw.listen({ onUnhandledRequest: 'error' });
  return fake;
}
