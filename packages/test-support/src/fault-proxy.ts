import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * What the proxy does with new connections:
 * - `pass`: forwards bytes both ways;
 * - `blackhole`: accepts the connection and never answers (a firewall dropping packets);
 * - `refuse`: accepts and resets at once (nothing listening).
 */
export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

interface Link {
  client: Socket;
  upstream: Socket | null;
  /** Bytes are swallowed in both directions, and no FIN is sent: a NAT that forgot the flow. */
  silent: boolean;
}

/**
 * A TCP proxy on loopback between a client and a real server that injects the network faults an
 * operator sees: restarts (the server's own), black holes, cut connections, delays and streams
 * that go silent without a FIN.
 *
 * @example
 * ```ts
 * const proxy = await FaultProxy.start(server.port);
 * const client = createClient({ sdkKey, baseUrl: proxy.url });
 * proxy.silence(); // every open connection goes quiet, new ones pass
 * proxy.mode = 'blackhole'; // new connections hang too
 * proxy.cut(); // reset everything open
 * await proxy.close();
 * ```
 */
export class FaultProxy {
  mode: ProxyMode = 'pass';
  /** Delay added to every forwarded chunk, in ms. */
  delayMs = 0;
  /** Connections accepted since start. */
  accepted = 0;
  /** Connections reset at once because the mode was `refuse`. */
  refused = 0;
  private readonly links = new Set<Link>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  /** Starts a proxy on a free loopback port forwarding to `127.0.0.1:targetPort`. */
  static async start(targetPort: number): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {};
    const server = createServer((client) => holder.proxy!.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (holder.proxy = new FaultProxy(server, (server.address() as { port: number }).port, targetPort));
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Open connections. */
  get open(): number {
    return this.links.size;
  }

  /** Every open connection stops carrying bytes and stays open (no FIN, no RST); new ones follow `mode`. */
  silence(): void {
    for (const l of this.links) l.silent = true;
  }

  /** Resets every open connection (both sides see the connection die). */
  cut(): void {
    for (const l of this.links) this.drop(l);
  }

  /** Stops accepting and resets everything. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.accepted++;
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      this.refused++;
      client.resetAndDestroy();
      return;
    }
    const link: Link = { client, upstream: null, silent: this.mode === 'blackhole' };
    this.links.add(link);
    client.on('close', () => this.drop(link));
    if (link.silent) {
      client.on('data', () => undefined);
      return;
    }
    const upstream = connect(this.targetPort, '127.0.0.1');
    link.upstream = upstream;
    upstream.on('error', () => this.drop(link));
    upstream.on('close', () => {
      // The server went away: pass its FIN on, unless this link is meant to look alive.
      if (!link.silent) this.drop(link);
    });
    client.on('data', (chunk) => this.forward(link, upstream, chunk));
    upstream.on('data', (chunk) => this.forward(link, client, chunk));
  }

  private forward(link: Link, to: Socket, chunk: Buffer): void {
    if (link.silent) return;
    if (this.delayMs === 0) to.write(chunk);
    else setTimeout(() => !link.silent && !to.destroyed && to.write(chunk), this.delayMs);
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.resetAndDestroy();
    link.upstream?.destroy();
  }
}
