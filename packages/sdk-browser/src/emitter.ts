/** A minimal typed event emitter; a throwing listener is reported asynchronously and never breaks the SDK. */
export interface Emitter<M> {
  on<E extends keyof M>(event: E, listener: (payload: M[E]) => void): () => void;
  emit<E extends keyof M>(event: E, payload: M[E]): void;
  clear(): void;
}

/**
 * Creates an emitter.
 *
 * @example
 * ```ts
 * const e = createEmitter<{ change: string[] }>();
 * const off = e.on('change', (keys) => console.log(keys));
 * e.emit('change', ['a']);
 * off();
 * ```
 */
export function createEmitter<M>(): Emitter<M> {
  let listeners: { [E in keyof M]?: Set<(payload: M[E]) => void> } = {};
  return {
    on(event, listener) {
      const set = (listeners[event] ??= new Set());
      set.add(listener);
      return () => void set.delete(listener);
    },
    emit(event, payload) {
      listeners[event]?.forEach((listener) => {
        try {
          listener(payload);
        } catch (e) {
          setTimeout(() => {
            throw e;
          });
        }
      });
    },
    clear() {
      listeners = {};
    },
  };
}
