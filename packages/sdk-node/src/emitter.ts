import type { Logger } from './logger';

/**
 * A listener for one event type.
 *
 * @example
 * ```ts
 * const onError: Listener<SwitchyardError> = (err) => log.warn(err.code);
 * client.on('error', onError);
 * ```
 */
export type Listener<T> = (payload: T) => void;

/**
 * A small typed event emitter. Unlike Node's `EventEmitter`, an `'error'` with no listener is not
 * thrown (it would crash the host service from inside a background reconnect), and a listener
 * that throws is logged and skipped instead of breaking the SDK path that emitted.
 */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly logger: Logger) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener);
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const l of [...set]) {
      try {
        (l as Listener<Events[K]>)(payload);
      } catch (err) {
        this.logger.error(`a '${String(event)}' listener threw`, { error: String(err) });
      }
    }
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  clear(): void {
    this.listeners.clear();
  }
}
