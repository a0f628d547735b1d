import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, checked with the `standardwebhooks` library. */
export interface Received {
  id: string;
  timestamp: string;
  /** Whether `Webhook.verify` accepted the signature with the secret the receiver knows. */
  verified: boolean;
  body: { type: string; timestamp: string; data: Record<string, any> };
  headers: IncomingMessage['headers'];
}

/**
 * A real HTTP webhook receiver on 127.0.0.1 that verifies every delivery's Standard Webhooks
 * signature. It can be taken down and brought back on the same port, and told what status to
 * answer with.
 */
export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** The secret deliveries are verified with (set it from the creation response). */
  secret: string;
  /** Status of the next responses (default 200). */
  status: number;
  /** How many requests carried each webhook-id. */
  countsById(): Map<string, number>;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  let server: Server | null = null;
  const r: Receiver = {
    url: '',
    port,
    received: [],
    secret: '',
    status: 200,
    countsById() {
      const m = new Map<string, number>();
      for (const x of r.received) m.set(x.id, (m.get(x.id) ?? 0) + 1);
      return m;
    },
    async up() {
      const s = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let verified: boolean;
          try {
            new Webhook(r.secret).verify(text, req.headers as Record<string, string>);
            verified = true;
          } catch {
            verified = false;
          }
          r.received.push({
            id: String(req.headers['webhook-id']),
            timestamp: String(req.headers['webhook-timestamp']),
            verified,
            body: JSON.parse(text) as Received['body'],
            headers: req.headers,
          });
          res.writeHead(r.status, { 'content-type': 'text/plain' }).end(r.status < 300 ? 'ok' : 'receiver failing on purpose');
        });
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(r.port, '127.0.0.1', () => resolve());
      });
      r.port = (s.address() as AddressInfo).port;
      r.url = `http://127.0.0.1:${r.port}/hooks`;
      server = s;
    },
    async down() {
      const s = server;
      server = null;
      if (s === null) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    close: () => r.down(),
  };
  await r.up();
  return r;
}
