import { SwitchyardError } from './errors';

interface ReadyWaiter {
  resolve: () => void;
  reject: (err: SwitchyardError) => void;
  timer: NodeJS.Timeout | null;
}

/**
 * The callers of `ready()` waiting for the first config: each is settled once, by the first
 * config, a fatal error, `close()` or its own timeout.
 *
 * @example
 * ```ts
 * const waiters = new ReadyWaiters();
 * const ready = waiters.wait(2000); // rejects with TIMEOUT after 2 s unless settled first
 * waiters.resolveAll();
 * ```
 */
export class ReadyWaiters {
  private readonly waiters = new Set<ReadyWaiter>();

  /** Resolves with the others, or rejects with `TIMEOUT` after `ms` (`Infinity`: never). */
  wait(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: ReadyWaiter = { resolve, reject, timer: null };
      if (ms !== Infinity) {
        // Not unref'd: a script awaiting ready() must get its answer before the process may exit.
        w.timer = setTimeout(
          () => {
            this.waiters.delete(w);
            reject(new SwitchyardError('TIMEOUT', `no config from the server within ${ms} ms`));
          },
          Math.max(0, Number.isFinite(ms) ? ms : 0),
        );
      }
      this.waiters.add(w);
    });
  }

  resolveAll(): void {
    for (const w of this.waiters) {
      if (w.timer !== null) clearTimeout(w.timer);
      w.resolve();
    }
    this.waiters.clear();
  }

  rejectAll(err: SwitchyardError): void {
    for (const w of this.waiters) {
      if (w.timer !== null) clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
  }
}
