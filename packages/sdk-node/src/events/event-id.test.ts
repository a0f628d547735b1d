import { describe, expect, it } from 'vitest';
import { eventId } from './event-id';

describe('eventId', () => {
  it('is a UUIDv7 whose first 48 bits are the milliseconds', () => {
    const now = Date.UTC(2026, 10, 25, 12, 0, 0);
    const id = eventId(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sorts by time and does not repeat', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => eventId(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
