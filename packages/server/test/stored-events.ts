import type { StoredEvent } from '../src/store/types';

/** A stored track event of `purchase` by unit `u1` in production; `extra` overrides any field. */
export function storedEvent(id: string, extra: Partial<StoredEvent> = {}): StoredEvent {
  return {
    environment: 'production',
    id,
    type: 'track',
    key: 'purchase',
    unitId: 'u1',
    experiment: null,
    variant: null,
    value: null,
    properties: null,
    timestamp: 1000,
    receivedAt: 2000,
    ...extra,
  };
}

/** A stored exposure of `unitId` to `variant` of `experiment`. */
export const storedExposure = (id: string, unitId: string, variant: string, timestamp = 1000, experiment = 'exp'): StoredEvent =>
  storedEvent(id, { type: 'exposure', key: experiment, unitId, experiment, variant, timestamp });
