import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './helpers';

/** Opens a raw connection and sends the head of a POST whose body never (fully) arrives. */
async function startPost(
  t: TestServer,
  path: string,
  declaredLength: number,
  firstBytes: string,
): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const { hostname, port } = new URL(t.url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('close', () => (closed = true));
  socket.on('error', () => undefined);
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nX-API-Key: ${t.serverKey}\r\nContent-Type: application/json\r\nContent-Length: ${declaredLength}\r\n\r\n${firstBytes}`,
  );
  return { socket, received: () => received, closed: () => closed };
}

async function counterSamples(t: TestServer, status: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith('switchyard_http_requests_total{') && line.includes(`status="${status}"`)) sum += Number(line.split(' ').at(-1));
  return sum;
}

describe('clients that are slow or hang up', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ requestTimeoutMs: 1_000 });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a body trickled slower than the request timeout is cut off with 408 and the connection closed', async () => {
    const post = await startPost(t, '/sdk/v1/events', 10_000, '{"events":[');
    // Keeps trickling (each byte well inside any idle timeout) until the server gives up.
    const trickle = setInterval(() => post.socket.writable && post.socket.write(' '), 100);
    try {
      await vi.waitFor(() => expect(post.closed()).toBe(true), { timeout: 20_000, interval: 50 });
    } finally {
      clearInterval(trickle);
    }
    expect(post.received()).toMatch(/^HTTP\/1\.1 408 /);
    // The server keeps answering everyone else.
    expect((await fetch(`${t.url}/health`)).status).toBe(200);
  });

  it('a client that hangs up mid-body is neither a 500 in the metrics nor an error', async () => {
    const before500 = await counterSamples(t, '500');
    const before499 = await counterSamples(t, '499');
    const post = await startPost(t, '/sdk/v1/events', 10_000, '{"events":[');
    // Wait until the server is reading this body (the request counts as in flight), then hang up.
    await vi.waitFor(
      async () => {
        const text = await (await fetch(`${t.url}/metrics`)).text();
        expect(text).toMatch(/^switchyard_http_requests_in_flight [1-9]/m);
      },
      { timeout: 10_000, interval: 20 },
    );
    post.socket.destroy();
    await vi.waitFor(async () => expect(await counterSamples(t, '499')).toBe(before499 + 1), { timeout: 10_000, interval: 50 });
    expect(await counterSamples(t, '500')).toBe(before500);
  });
});
