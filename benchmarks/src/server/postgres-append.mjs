/**
 * PostgreSQL's event append statement alone, without HTTP: the CPU one event costs the
 * PostgreSQL server and the Node process, and the WAL it writes, for the statement ingestion
 * used before (`INSERT ... SELECT FROM unnest(...) ON CONFLICT (id) DO NOTHING`) and the one it
 * uses now (`COPY events FROM STDIN`, text format), in the same run, alternating.
 *
 * Each run: a fresh database migrated by the built server (so the table and its indexes are the
 * real ones), then groups of 6 batches of 500 events (the ingestion benchmark's mix: 40 %
 * exposures of new units, 60 % tracks of them, a third with properties, time-ordered UUIDv7
 * ids), each group one transaction on one connection, as one ingesting slot does. CPU comes
 * from /proc (every process of the PostgreSQL server: backend, WAL writer, checkpointer) and
 * `process.cpuUsage()`; WAL from `pg_current_wal_lsn()`. The summaries' aggregator is not
 * running: this is the append alone.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SERVER_DIST, assertBuilt, fmt, load1, loadNote, median, repoRoot, writeSection } from './lib.mjs';
import { machine, machineLine } from '../lib/machine.mjs';
import { serverCpuMs, startPostgres } from './postgres.mjs';

export const NAME = 'postgres-append';

const pg = createRequire(path.join(repoRoot, 'packages/server/package.json'))('pg');

const GROUP_BATCHES = 6;
const BATCH = 500;
const COLUMNS = 'id, type, key, unit_id, experiment, variant, value, properties, timestamp, received_at, environment, sent_by';

let seq = 0;
/** A time-ordered UUIDv7, as the SDKs make them. */
function uuidv7() {
  const ms = Date.now().toString(16).padStart(12, '0');
  const r = randomBytes(8).toString('hex');
  return `${ms.slice(0, 8)}-${ms.slice(8)}-7${((seq++ & 0xfff) >>> 0).toString(16).padStart(3, '0')}-8${r.slice(0, 3)}-${r.slice(3, 15)}`;
}

/** One batch of the ingestion benchmark's mix, as the store receives it. */
function batch() {
  const now = Date.now();
  const exposures = BATCH * 0.4;
  const units = [];
  const out = [];
  for (let j = 0; j < BATCH; j++) {
    const base = { id: uuidv7(), value: null, properties: null, receivedAt: now, environment: 'production', sentBy: 'key_bench' };
    if (j < exposures) {
      units.push(randomUUID());
      out.push({
        ...base,
        type: 'exposure',
        key: 'ingest-flag',
        unitId: units[j],
        experiment: 'ingest-exp',
        variant: j % 2 ? 'treatment' : 'control',
        timestamp: now,
      });
    } else {
      const properties = j % 3 === 0 ? { plan: 'pro', source: 'bench' } : null;
      out.push({
        ...base,
        type: 'track',
        key: 'purchase',
        unitId: units[(j - exposures) % exposures],
        experiment: null,
        variant: null,
        value: 12.5,
        properties,
        timestamp: now + 1000,
      });
    }
  }
  return out;
}

/** The statement ingestion used before: one array per column. */
async function viaUnnest(c, rows) {
  const r = await c.query(
    `INSERT INTO events (${COLUMNS}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
      $7::float8[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[]) ON CONFLICT (id) DO NOTHING`,
    [
      rows.map((e) => e.id),
      rows.map((e) => e.type),
      rows.map((e) => e.key),
      rows.map((e) => e.unitId),
      rows.map((e) => e.experiment),
      rows.map((e) => e.variant),
      rows.map((e) => e.value),
      rows.map((e) => (e.properties === null ? null : JSON.stringify(e.properties))),
      rows.map((e) => e.timestamp),
      rows.map((e) => e.receivedAt),
      rows.map((e) => e.environment),
      rows.map((e) => e.sentBy),
    ],
  );
  return r.rowCount;
}

const ESCAPED = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** One field of COPY's text format, escaped as the server escapes it (copy-in.ts). */
const field = (v) =>
  v === null ? '\\N' : typeof v === 'number' ? String(v) : /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (ch) => ESCAPED[ch]) : v;

/** The statement ingestion uses now (packages/server/src/store/postgres/events.ts, copy-in.ts). */
async function viaCopy(c, rows) {
  let text = '';
  for (const e of rows) {
    const properties = e.properties === null ? null : JSON.stringify(e.properties);
    text += `${field(e.id)}\t${field(e.type)}\t${field(e.key)}\t${field(e.unitId)}\t${field(e.experiment)}\t${field(e.variant)}\t${field(e.value)}\t${field(properties)}\t${field(e.timestamp)}\t${field(e.receivedAt)}\t${field(e.environment)}\t${field(e.sentBy)}\n`;
  }
  const copy = {
    rowCount: 0,
    error: null,
    callback: null,
    submit: (connection) => connection.query(`COPY events (${COLUMNS}) FROM STDIN`),
    handleCopyInResponse: (connection) => {
      connection.sendCopyFromChunk(Buffer.from(text));
      connection.endCopyFrom();
    },
    handleCommandComplete: (msg) => (copy.rowCount = Number(/\d+$/.exec(msg.text)[0])),
    handleError: (e) => (copy.error ??= e),
    handleReadyForQuery: () => copy.callback(copy.error, copy),
  };
  await new Promise((resolve, reject) => {
    copy.callback = (e) => (e ? reject(e) : resolve());
    c.query(copy);
  });
  return copy.rowCount;
}

const STATEMENTS = {
  'INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING (before)': viaUnnest,
  'COPY events FROM STDIN (now)': viaCopy,
};

/** One run of `statement` on a fresh database; `groups` from `pre`. */
async function oneRun(postgres, statement, groups) {
  const { openPostgresStore } = await import(SERVER_DIST);
  const url = await postgres.createDatabase();
  await (await openPostgresStore(url)).close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
    const postmaster = Number(fs.readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    const append = async (g) => {
      const events = g.flat().sort((a, b) => (a.id < b.id ? -1 : 1));
      await client.query('BEGIN');
      if ((await statement(client, events)) !== events.length) throw new Error('not every event was stored');
      await client.query('COMMIT');
    };
    for (const g of groups.slice(0, 3)) await append(g); // warm-up: connection, catalog caches
    const lsn0 = (await client.query('SELECT pg_current_wal_lsn() AS l')).rows[0].l;
    const pg0 = serverCpuMs(postmaster);
    const node0 = process.cpuUsage();
    const t0 = performance.now();
    for (const g of groups.slice(3)) await append(g);
    const wallMs = performance.now() - t0;
    const node = process.cpuUsage(node0);
    const pgMs = serverCpuMs(postmaster) - pg0;
    const wal = Number((await client.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS b', [lsn0])).rows[0].b);
    const events = (groups.length - 3) * GROUP_BATCHES * BATCH;
    return {
      pgUs: (pgMs * 1000) / events,
      nodeUs: (node.user + node.system) / events,
      walBytes: wal / events,
      eventsPerS: events / (wallMs / 1000),
    };
  } finally {
    await client.end();
  }
}

/** @param {{ resultsDir: string, quick?: boolean, log?: (s: string) => void }} opts */
export async function run({ resultsDir, quick = false, log = (s) => console.log(s) }) {
  assertBuilt();
  const rounds = quick ? 1 : 3;
  const groupCount = quick ? 23 : 63;
  const m = machine();
  const loadBefore = load1();
  const postgres = await startPostgres();
  /** @type {Record<string, any[]>} */
  const results = Object.fromEntries(Object.keys(STATEMENTS).map((k) => [k, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternating which goes first; fresh events per run (ids are unique per run anyway: a fresh database).
      const order = round % 2 === 0 ? Object.keys(STATEMENTS) : Object.keys(STATEMENTS).reverse();
      for (const name of order) {
        const groups = Array.from({ length: groupCount }, () => Array.from({ length: GROUP_BATCHES }, batch));
        const r = await oneRun(postgres, STATEMENTS[name], groups);
        results[name].push(r);
        log(
          `[postgres-append] ${name}: PostgreSQL ${fmt(r.pgUs, 2)} µs, Node ${fmt(r.nodeUs, 2)} µs CPU per event; WAL ${fmt(r.walBytes, 0)} B per event; ${fmt(r.eventsPerS, 0)} events/s on one connection`,
        );
      }
    }
  } finally {
    await postgres.stop();
  }
  const loadAfter = load1();
  const med = (name, k) => median(results[name].map((r) => r[k]));
  const [before, now] = Object.keys(STATEMENTS);
  const lines = [
    '## PostgreSQL event append: the statement alone',
    '',
    `Measured ${m.date.slice(0, 10)} on ${machineLine(m)}. ${loadNote(loadBefore, loadAfter)}.${quick ? ' **Quick mode** (shorter runs, not for publishing).' : ''}`,
    '',
    `Command: \`cd benchmarks && node --expose-gc src/run-all.mjs postgres-append\`. PostgreSQL ${postgres.version} as in the ingestion benchmark (\`synchronous_commit = off\`, 256 MB shared buffers); per run a fresh database migrated by the built server, then ${groupCount - 3} groups (after 3 warm-up groups) of ${GROUP_BATCHES} × ${BATCH} events of the ingestion benchmark's mix, each group one transaction on one connection, no HTTP and no summaries' aggregator. CPU per event: every process of the PostgreSQL server (/proc), and this Node process (building the statement's parameters or COPY text, the protocol). ${rounds} run(s) of each statement, alternating which goes first; medians. CPU per event holds up under load better than events/s, which here mostly says how much of a core the run got.`,
    '',
    '| statement | PostgreSQL CPU per event | Node CPU per event | WAL per event | events/s (one connection) |',
    '|---|--:|--:|--:|--:|',
    ...Object.keys(STATEMENTS).map(
      (name) =>
        `| ${name} | ${results[name].map((r) => fmt(r.pgUs, 2)).join(', ')} → **${fmt(med(name, 'pgUs'), 2)} µs** | ${fmt(med(name, 'nodeUs'), 2)} µs | ${fmt(med(name, 'walBytes'), 0)} B | ${fmt(med(name, 'eventsPerS'), 0)} |`,
    ),
    '',
    `COPY / the statement before: PostgreSQL CPU per event **${fmt(med(now, 'pgUs') / med(before, 'pgUs'), 2)}×**, Node CPU per event ${fmt(med(now, 'nodeUs') / med(before, 'nodeUs'), 2)}×, WAL per event ${fmt(med(now, 'walBytes') / med(before, 'walBytes'), 2)}× (below 1: COPY costs less).`,
  ];
  const file = writeSection(resultsDir, NAME, lines.join('\n'));
  log(`[postgres-append] wrote ${file}`);
  return { results };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({
    resultsDir: path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../results'),
    quick: process.env.BENCH_QUICK === '1',
  });
  process.exit(0);
}
