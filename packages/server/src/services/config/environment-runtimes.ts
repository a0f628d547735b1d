import type { Store } from '../../store/types';
import { ConfigState } from './config-state';
import type { StreamHub } from './stream-hub';

/** One environment's live config and the SSE streams that follow it. */
export interface EnvironmentRuntime {
  environment: string;
  config: ConfigState;
  hub: StreamHub;
}

/**
 * The live config of every environment this instance serves, each loaded from the store on
 * first use (the default environment at start), each with its own stream hub and replay buffer:
 * a change in one environment reaches only that environment's streams.
 *
 * @example
 * ```ts
 * const runtimes = new EnvironmentRuntimes(store, 'production', (config) => new StreamHub(config, hubOptions, logger));
 * const { config, hub } = await runtimes.get('staging');
 * ```
 */
export class EnvironmentRuntimes {
  private readonly loading = new Map<string, Promise<EnvironmentRuntime>>();
  private readonly ready = new Map<string, EnvironmentRuntime>();
  private closed = false;

  constructor(
    private readonly store: Store,
    readonly defaultEnvironment: string,
    private readonly makeHub: (config: ConfigState) => StreamHub,
  ) {}

  /** The runtime of `environment`, loading it from the store the first time. */
  get(environment: string): Promise<EnvironmentRuntime> {
    let p = this.loading.get(environment);
    if (p === undefined) {
      p = (async () => {
        const config = new ConfigState(this.store, environment);
        await config.load();
        const runtime: EnvironmentRuntime = { environment, config, hub: this.makeHub(config) };
        if (this.closed) runtime.hub.close();
        this.ready.set(environment, runtime);
        return runtime;
      })();
      // A failed load is tried again by the next caller.
      p.catch(() => this.loading.delete(environment));
      this.loading.set(environment, p);
    }
    return p;
  }

  /** The runtime of `environment` if it is loaded. */
  peek(environment: string): EnvironmentRuntime | undefined {
    return this.ready.get(environment);
  }

  /** The default environment's runtime (loaded at start). */
  get default(): EnvironmentRuntime {
    const r = this.ready.get(this.defaultEnvironment);
    if (r === undefined) throw new Error(`the default environment '${this.defaultEnvironment}' is not loaded`);
    return r;
  }

  /** Every loaded runtime. */
  all(): EnvironmentRuntime[] {
    return [...this.ready.values()];
  }

  /** Forgets a deleted environment: its streams end. */
  drop(environment: string): void {
    this.ready.get(environment)?.hub.close();
    this.ready.delete(environment);
    this.loading.delete(environment);
  }

  /** Ends every stream (shutdown). */
  close(): void {
    this.closed = true;
    for (const r of this.ready.values()) r.hub.close();
  }
}
