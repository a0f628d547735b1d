/** Event types the server accepts. */
export const EventType = {
  EXPOSURE: 'exposure',
  TRACK: 'track',
} as const;

/** One of {@link EventType}. */
export type EventType = (typeof EventType)[keyof typeof EventType];

/** An event as `POST /sdk/v1/events` takes it (snake_case: it is the wire format). */
export interface WireEvent {
  /** Made by the SDK once (a time-ordered UUIDv7) and kept across retries, so the server counts it once. */
  id: string;
  type: EventType;
  /** Experiment key for an exposure, event key (metric) for a track. */
  key: string;
  unit_id: string;
  experiment?: string;
  variant?: string;
  value?: number;
  properties?: Record<string, unknown>;
  /** ISO 8601 string or epoch milliseconds. */
  timestamp: string | number;
}
