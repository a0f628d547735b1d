/**
 * The part of node-postgres' connection a `COPY ... FROM STDIN` speaks to (its protocol
 * messages: the query, the data, the end of the data).
 */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * A `COPY ... FROM STDIN` run through a node-postgres client (`client.query(copy)`; resolves on
 * `copy.done` to the rows copied). node-postgres runs any object with `submit()` as a query and
 * hands it the protocol's replies; this one sends `data` when the server asks for it. The data
 * is all in memory already (a group of event batches), so no stream and no back-pressure: it goes
 * out in one CopyData message per chunk. Errors and the client's query timeout reject `done`.
 *
 * @example
 * ```ts
 * const copy = new CopyIn('COPY events (id, type) FROM STDIN', ['e1\ttrack\n', 'e2\texposure\n']);
 * void client.query(copy);
 * const { rowCount } = await copy.done; // 2
 * ```
 */
export class CopyIn {
  /** Settles once the server has answered the whole COPY. */
  readonly done: Promise<{ rowCount: number }>;
  /** Called by node-postgres (which wraps it to clear its query timeout): settles {@link done} once. */
  callback: (err: Error | null, result?: { rowCount: number }) => void;
  private rowCount = 0;
  private settled = false;

  constructor(
    readonly text: string,
    private readonly chunks: readonly string[],
  ) {
    let resolve!: (r: { rowCount: number }) => void;
    let reject!: (e: Error) => void;
    this.done = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A rejection nobody awaits yet (the caller awaits `done` after `query()`) must not crash the process.
    this.done.catch(() => {});
    this.callback = (err, result) => (err === null ? resolve(result ?? { rowCount: 0 }) : reject(err));
  }

  submit(connection: CopyConnection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    for (const chunk of this.chunks) connection.sendCopyFromChunk(Buffer.from(chunk, 'utf8'));
    connection.endCopyFrom();
  }

  handleCommandComplete(msg: { text?: string }): void {
    // The command tag is `COPY <rows>`.
    this.rowCount = Number(/\d+$/.exec(msg.text ?? '')?.[0] ?? 0);
  }

  handleError(err: Error): void {
    // The server still sends ReadyForQuery after an error; the client queues what comes next behind it.
    this.settle(err);
  }

  handleReadyForQuery(): void {
    this.settle(null);
  }

  private settle(err: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    this.callback(err, err === null ? { rowCount: this.rowCount } : undefined);
  }
}

/** Characters COPY's text format gives a meaning: each goes in escaped. */
const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One field of COPY's text format: `\N` for null, anything else as text with backslash, tab,
 * newline and carriage return escaped.
 *
 * @example
 * ```ts
 * copyField(null); // '\\N'
 * copyField('a\tb'); // 'a\\tb'
 * ```
 */
export function copyField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  return SPECIAL.test(v) ? v.replace(SPECIALS, (ch) => ESCAPED[ch]!) : v;
}
