// A tiny static server for the example page: the page, the SDK's script-tag bundle (built by
// `pnpm build`, taken from packages/sdk-browser/dist), and /config.json with the server URL
// and client key the page connects with.
//
//   SWITCHYARD_URL=http://127.0.0.1:8787 SWITCHYARD_CLIENT_KEY=sy_cli_... node server.mjs
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const here = new URL('./', import.meta.url);
// The SDK's script-tag bundle, from the installed package.
const sdkBundle = createRequire(import.meta.url).resolve('@switchyard/sdk-browser/iife');
const files = {
  '/': ['public/index.html', 'text/html; charset=utf-8'],
  '/app.js': ['public/app.js', 'text/javascript'],
  '/style.css': ['public/style.css', 'text/css'],
  '/switchyard.min.js': [sdkBundle, 'text/javascript'],
};

/**
 * Starts the example's server and resolves with its URL and a `close()`.
 *
 * @example
 * const app = await startExampleServer({ switchyardUrl: 'http://127.0.0.1:8787', clientKey: 'sy_cli_...' });
 * console.log(app.url);
 */
export async function startExampleServer({ switchyardUrl, clientKey, port = 0, host = '127.0.0.1' }) {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify({ baseUrl: switchyardUrl, clientKey }));
    }
    const file = files[path];
    if (file === undefined) return res.writeHead(404).end('not found');
    try {
      const body = await readFile(new URL(file[0], here));
      res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(500).end(`${file[0]} is missing: run \`pnpm build\` at the repository root`);
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const { port: actual } = server.address();
  return {
    url: `http://${host}:${actual}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const clientKey = process.env.SWITCHYARD_CLIENT_KEY;
  if (!clientKey) {
    console.error('Set SWITCHYARD_CLIENT_KEY to a client key (the server prints one on its first start).');
    process.exit(1);
  }
  const app = await startExampleServer({
    switchyardUrl: process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8787',
    clientKey,
    port: Number(process.env.PORT ?? 3000),
  });
  console.log(`example shop on ${app.url}`);
}
