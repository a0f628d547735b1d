import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { evaluationSpec } from './spec';

const dist = new URL('../../dist/', import.meta.url);

/** A page that loads one of the built bundles and nothing else. */
const page = (bundle: string, extra = '') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>sdk-browser test</title><script src="/dist/${bundle}"></script>${extra}</head><body></body></html>`;

/** What the static server answers besides the built files. */
export interface StaticServer {
  url: string;
  /** Events posted to the stub endpoints, by config name. */
  stubEvents: Record<string, unknown[]>;
  /** Serves `body` with `type` at `path` from now on. */
  route(path: string, type: string, body: string | Buffer): void;
  close(): Promise<void>;
}

/**
 * A node:http server on 127.0.0.1 (another origin than the Switchyard server, as in a real
 * deployment) serving:
 * - `/remote.html` and `/local.html`: an empty page with the IIFE bundle of that mode;
 * - `/dist/*`: the built files;
 * - `/spec/<config>/sdk/v1/{config,stream,events}`: a stub of the server-key endpoints that
 *   serves one spec config document as is, including the ones the real server would refuse to
 *   save, so local mode can run every vector.
 */
export async function startStaticServer(): Promise<StaticServer> {
  const routes = new Map<string, { type: string; body: string | Buffer }>();
  routes.set('/remote.html', { type: 'text/html', body: page('switchyard.min.js') });
  routes.set('/local.html', { type: 'text/html', body: page('switchyard-local.min.js') });
  const stubEvents: Record<string, unknown[]> = {};
  const sockets = new Set<import('node:net').Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'x-api-key, content-type' };
    if (req.method === 'OPTIONS') return res.writeHead(204, cors).end();
    const stub = /^\/spec\/([^/]+)\/sdk\/v1\/(config|stream|events)$/.exec(url.pathname);
    if (stub) {
      const [, name, what] = stub as unknown as [string, string, string];
      const doc = evaluationSpec.configs[name];
      if (doc === undefined) return res.writeHead(404, cors).end();
      const { valid: _valid, ...document } = doc;
      if (what === 'config') return res.writeHead(200, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(document));
      if (what === 'stream') {
        res.writeHead(200, { ...cors, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        return void res.write(`retry: 1000\n\nid: ${doc.version}\nevent: put\ndata: ${JSON.stringify(document)}\n\n`);
      }
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        (stubEvents[name] ??= []).push(...(JSON.parse(body).events as unknown[]));
        res.writeHead(202, { ...cors, 'content-type': 'application/json' }).end('{"data":{"accepted":0,"duplicates":0}}');
      });
      return res;
    }
    const route = routes.get(url.pathname);
    if (route) return res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(route.body);
    if (url.pathname.startsWith('/dist/') && !url.pathname.includes('..')) {
      try {
        const file = readFileSync(new URL(url.pathname.slice('/dist/'.length), dist));
        return res
          .writeHead(200, {
            'content-type': url.pathname.endsWith('.js') ? 'text/javascript' : 'application/json',
            'cache-control': 'no-store',
          })
          .end(file);
      } catch {
        // fall through to 404
      }
    }
    return res.writeHead(404).end();
  };

  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stubEvents,
    route: (path, type, body) => void routes.set(path, { type, body }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export { page };
