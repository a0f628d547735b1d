/**
 * Fires `onSilence` when `touch()` has not been called for `timeoutMs`, then keeps watching
 * (firing again after each further `timeoutMs` of silence). One timer, re-armed with
 * `refresh()`, so touching it for every received chunk costs next to nothing.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | null = null;
  private last = Date.now();

  constructor(
    private readonly timeoutMs: number,
    private readonly onSilence: (silentForMs: number) => void,
  ) {}

  /** When something was last heard (epoch ms). */
  get lastActivityAt(): number {
    return this.last;
  }

  start(): void {
    if (this.timer !== null) return;
    this.last = Date.now();
    this.timer = setTimeout(this.fire, this.timeoutMs);
    // Watching must not keep a process alive by itself.
    this.timer.unref();
  }

  touch(): void {
    this.last = Date.now();
    this.timer?.refresh();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly fire = (): void => {
    if (this.timer === null) return;
    this.timer.refresh();
    this.onSilence(Date.now() - this.last);
  };
}
