/**
 * Who runs the background jobs, and how instances tell each other about changes. A lone
 * SQLite server is always the leader and talks only to itself; instances sharing PostgreSQL
 * hold a lease there (see `store/postgres/control-connection.ts`).
 */

/** A change another instance must hear about at once. */
export type ClusterSignal = (
  | /** Experiments were created, changed or deleted: the scheduler re-plans. */
    { type: 'experiments' }
    /** Credentials were revoked or changed: cached keys and users are dropped, streams of revoked keys end. */
  | { type: 'credentials'; userId?: string; apiKeyIds?: string[] }
) & {
  /**
   * The sending process's id: every instance receives every signal, its sender included, and
   * the sender has already acted on it (see the config pipeline).
   */
  origin?: string;
};

/** The leader lease plus the signal channel between instances. */
export interface Leadership {
  /** This instance runs the background jobs now. */
  readonly isLeader: boolean;
  /** Called with the new state each time leadership is gained or lost. */
  onChange(listener: (isLeader: boolean) => void): void;
  /** Sends a signal to every instance, this one included (fire and forget: failures are logged). */
  publish(signal: ClusterSignal): void;
  /** Called for each signal received. */
  onSignal(listener: (signal: ClusterSignal) => void): void;
  /**
   * Called when signals may have been missed (the channel reconnected): listeners re-read
   * what they cache instead of trusting it.
   */
  onResync(listener: () => void): void;
  /** Starts taking part (acquiring the lease, listening). */
  start(): void;
  /** Gives the lease up (at once, for a fast handover) and stops listening. */
  close(): Promise<void>;
}

/**
 * The leadership of a single process (SQLite): always the leader, signals delivered in process.
 *
 * @example
 * ```ts
 * const leadership = soleLeadership();
 * leadership.onSignal((s) => console.log(s.type));
 * leadership.publish({ type: 'experiments' });
 * ```
 */
export function soleLeadership(): Leadership {
  const signalListeners: ((s: ClusterSignal) => void)[] = [];
  const changeListeners: ((l: boolean) => void)[] = [];
  let started = false;
  return {
    get isLeader() {
      return started;
    },
    onChange: (l) => void changeListeners.push(l),
    publish(signal) {
      // Asynchronous like a real channel: a listener never runs inside the publisher's call.
      queueMicrotask(() => {
        for (const l of signalListeners) l(signal);
      });
    },
    onSignal: (l) => void signalListeners.push(l),
    onResync: () => undefined,
    start() {
      if (started) return;
      started = true;
      for (const l of changeListeners) l(true);
    },
    async close() {
      if (!started) return;
      started = false;
      for (const l of changeListeners) l(false);
    },
  };
}
