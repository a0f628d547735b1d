import type pg from 'pg';
import type { Logger } from 'pino';
import { loadOptional } from '../../optional-dependency';
import type { ClusterSignal, Leadership } from '../../services/jobs/leadership';
import { LEADER_LOCK, LOCK_SPACE } from './locks';

/** The LISTEN/NOTIFY channel of signals between instances. */
export const SIGNAL_CHANNEL = 'switchyard_signals';

export interface ControlConnectionOptions {
  url: string;
  logger: Logger;
  /** How often a follower tries to take the lease and the leader checks it still holds it (default 1000 ms). */
  checkMs?: number;
  /** Opening the connection and each check give up after this long (default 2000 ms). */
  timeoutMs?: number;
}

/** Counters for metrics and tests. */
export interface ControlStats {
  /** Times this instance became the leader. */
  acquired: number;
  /** Times it stopped being the leader (connection lost, check failed, closed). */
  lost: number;
  /** Connections opened (the first one included). */
  connects: number;
  signalsReceived: number;
}

/**
 * Leadership over PostgreSQL: each instance keeps one dedicated connection (outside the pool)
 * on which it tries `pg_try_advisory_lock` every `checkMs`. The session that holds the lock is
 * the leader. The lock belongs to the connection, so when the leader dies its connection
 * closes, PostgreSQL releases the lock at once and a follower takes it on its next attempt:
 * takeover within about `checkMs`. TCP keepalives on the session make PostgreSQL notice a leader
 * whose host vanished without closing the connection within ~10 s. The leader checks its
 * connection every `checkMs` too: a check that fails or times out (the database is down or
 * frozen) ends its leadership before anyone else could get the lock.
 *
 * Two leaders can still overlap for a moment (an old leader that has not noticed yet), so jobs
 * never rely on the lease alone: every transition is also a compare-and-set in the store.
 *
 * The same connection `LISTEN`s on {@link SIGNAL_CHANNEL}: signals are `pg_notify` payloads,
 * which every instance sharing the database receives (itself included). After a reconnect,
 * `onResync` listeners run, as signals sent meanwhile are lost.
 *
 * @example
 * ```ts
 * const control = await postgresLeadership({ url, logger });
 * control.onChange((leader) => logger.info({ leader }, 'leadership changed'));
 * control.start();
 * ```
 */
export async function postgresLeadership(options: ControlConnectionOptions): Promise<Leadership & { readonly stats: ControlStats }> {
  const { default: driver } = await loadOptional('pg', 'a postgres:// SWITCHYARD_DATABASE_URL', () => import('pg'));
  const checkMs = options.checkMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 2000;
  const log = options.logger;
  const changeListeners: ((l: boolean) => void)[] = [];
  const signalListeners: ((s: ClusterSignal) => void)[] = [];
  const resyncListeners: (() => void)[] = [];
  const stats: ControlStats = { acquired: 0, lost: 0, connects: 0, signalsReceived: 0 };
  let client: pg.Client | null = null;
  let leader = false;
  let started = false;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let lastWarned = 0;

  const setLeader = (value: boolean) => {
    if (leader === value) return;
    leader = value;
    if (value) stats.acquired++;
    else stats.lost++;
    log.info({ leader: value }, value ? 'this instance now runs the background jobs' : 'this instance no longer runs the background jobs');
    for (const l of changeListeners) l(value);
  };

  const warn = (err: unknown, msg: string) => {
    if (Date.now() - lastWarned < 30_000) return;
    lastWarned = Date.now();
    log.warn({ err: err instanceof Error ? err.message : String(err) }, msg);
  };

  /** Drops the connection (which releases the lock on the server) and the leadership with it. */
  const drop = (c: pg.Client) => {
    if (client === c) client = null;
    setLeader(false);
    // end() would wait for a frozen server to answer: destroying the socket is immediate.
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    c.end().catch(() => {});
  };

  const connect = async (): Promise<pg.Client> => {
    const c = new driver.Client({
      connectionString: options.url,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      keepAlive: true,
      application_name: 'switchyard-control',
    });
    c.on('error', (err) => {
      warn(err, 'lost the control connection to PostgreSQL; reconnecting');
      drop(c);
    });
    c.on('end', () => drop(c));
    c.on('notification', (n) => {
      if (n.channel !== SIGNAL_CHANNEL || n.payload === undefined) return;
      let signal: ClusterSignal;
      try {
        signal = JSON.parse(n.payload) as ClusterSignal;
      } catch {
        return;
      }
      stats.signalsReceived++;
      for (const l of signalListeners) l(signal);
    });
    try {
      await c.connect();
      // The server notices a vanished leader host in ~10 s (idle 5 s, then 3 probes 2 s apart).
      await c.query('SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3');
      await c.query(`LISTEN ${SIGNAL_CHANNEL}`);
    } catch (err) {
      drop(c);
      throw err;
    }
    stats.connects++;
    if (stats.connects > 1) for (const l of resyncListeners) l();
    return c;
  };

  const step = async () => {
    let c = client;
    if (c === null) {
      c = await connect();
      if (closed) {
        drop(c);
        return;
      }
      client = c;
    }
    try {
      if (leader) await c.query('SELECT 1');
      else {
        const { rows } = await c.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_SPACE, LEADER_LOCK]);
        if ((rows[0] as { ok: boolean }).ok) setLeader(true);
      }
    } catch (err) {
      drop(c);
      throw err;
    }
  };

  const loop = () => {
    if (closed) return;
    step().then(
      () => schedule(),
      (err: unknown) => {
        warn(err, 'PostgreSQL control connection check failed; retrying');
        schedule();
      },
    );
  };
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(loop, checkMs);
    timer.unref();
  };

  return {
    stats,
    get isLeader() {
      return leader;
    },
    onChange: (l) => void changeListeners.push(l),
    onSignal: (l) => void signalListeners.push(l),
    onResync: (l) => void resyncListeners.push(l),
    publish(signal) {
      const c = client;
      if (c === null) {
        // Nobody can be told now; receivers resync when their own connection comes back.
        warn(new Error('no control connection'), 'could not signal the other instances; their caches expire on their own');
        return;
      }
      c.query('SELECT pg_notify($1, $2)', [SIGNAL_CHANNEL, JSON.stringify(signal)]).catch((err: unknown) =>
        warn(err, 'could not signal the other instances; their caches expire on their own'),
      );
    },
    start() {
      if (started) return;
      started = true;
      loop();
    },
    async close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      const c = client;
      client = null;
      setLeader(false);
      if (c === null) return;
      // Closing the session releases the lock: a follower takes over on its next attempt.
      await Promise.race([c.end(), new Promise((r) => setTimeout(r, timeoutMs).unref())]).catch(() => {});
      (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    },
  };
}
