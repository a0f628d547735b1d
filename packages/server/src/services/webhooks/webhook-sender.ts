import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import { checkTarget, guardedLookup, WebhookTargetError } from './webhook-target';

/** How much of a response body a delivery keeps, for diagnosis. */
export const RESPONSE_EXCERPT_BYTES = 512;

/** What one attempt came to. */
export interface AttemptResult {
  ok: boolean;
  /** The response's status code; `null` when no response came. */
  status: number | null;
  excerpt: string | null;
  error: string | null;
}

/** What one attempt sends. */
export interface Attempt {
  url: string;
  secret: string;
  messageId: string;
  payload: string;
  nowMs: number;
  timeoutMs: number;
  allowPrivate: boolean;
}

/**
 * The Standard Webhooks headers of one attempt, signed with the `standardwebhooks` library:
 * `webhook-id` (the same on every attempt), `webhook-timestamp` (this attempt's, in seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`).
 *
 * @example
 * ```ts
 * signedHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_1', Date.now(), '{"type":"flag.updated"}');
 * ```
 */
export function signedHeaders(secret: string, messageId: string, nowMs: number, payload: string): Record<string, string> {
  const at = new Date(Math.floor(nowMs / 1000) * 1000);
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, at, payload),
  };
}

/**
 * POSTs one signed delivery. Unless private targets are allowed, the host is checked before
 * the request and again when the socket connects (see `guardedLookup`). Redirects are not
 * followed (a 3xx is a failure), the whole attempt is bounded by `timeoutMs`, and only the first
 * {@link RESPONSE_EXCERPT_BYTES} of the response body are read. Never throws.
 */
export async function sendAttempt(a: Attempt): Promise<AttemptResult> {
  let url: URL;
  try {
    url = await checkTarget(a.url, a.allowPrivate);
  } catch (e) {
    const message = e instanceof WebhookTargetError ? `target refused: ${a.url} ${e.message}` : String(e);
    return { ok: false, status: null, excerpt: null, error: message };
  }
  const body = Buffer.from(a.payload, 'utf8');
  const headers = {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'Switchyard-Webhooks/1',
    ...signedHeaders(a.secret, a.messageId, a.nowMs, a.payload),
  };
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const finish = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, { method: 'POST', headers, ...(a.allowPrivate ? {} : { lookup: guardedLookup }) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        const status = res.statusCode ?? 0;
        const excerpt = Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8');
        const ok = status >= 200 && status < 300;
        const error = ok ? null : status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
        finish({ ok, status, excerpt, error });
        res.destroy();
      };
      res.on('data', (chunk: Buffer) => {
        if (size < RESPONSE_EXCERPT_BYTES) chunks.push(chunk);
        size += chunk.length;
        // Enough for the excerpt: the rest of a large body is not read.
        if (size >= RESPONSE_EXCERPT_BYTES) done();
      });
      res.on('end', done);
      res.on('error', done);
    });
    const timer = setTimeout(() => {
      finish({ ok: false, status: null, excerpt: null, error: `no response within ${a.timeoutMs} ms` });
      req.destroy();
    }, a.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const refused = err.code === 'EWEBHOOKTARGET';
      finish({
        ok: false,
        status: null,
        excerpt: null,
        error: refused ? `target refused: ${err.message}` : `${err.code ?? 'error'}: ${err.message}`,
      });
    });
    req.end(body);
  });
}
