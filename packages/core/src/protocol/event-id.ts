const hex = (b: number): string => (b + 256).toString(16).slice(1);

/**
 * A UUIDv7 (RFC 9562): 48 bits of epoch milliseconds, the version, the variant and 74 random
 * bits from `crypto.getRandomValues` (which, unlike `crypto.randomUUID`, also works on plain-http
 * pages). The id is made once per event and kept across retries, so the server counts a resent
 * event once; ids that grow with time keep the server's de-duplication index appending.
 *
 * This is the only helper of the protocol that reads the clock or
 * randomness; core's evaluator never does.
 *
 * @example
 * ```ts
 * eventId(); // '019ac0f3-2b1e-7c4d-9a0b-5f6e7d8c9b0a'
 * ```
 */
export function eventId(now: number = Date.now()): string {
  // `now` is an integer number of epoch milliseconds.
  // Web Crypto: present in browsers and in Node >= 20.
  const r = crypto.getRandomValues(new Uint8Array(10));
  const ts = now.toString(16).padStart(12, '0');
  return (
    `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${hex(r[0]!).slice(1)}${hex(r[1]!)}-` +
    `${hex((r[2]! & 0x3f) | 0x80)}${hex(r[3]!)}-${Array.from(r.subarray(4), hex).join('')}`
  );
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Whether a string is an id {@link eventId} could have made (lower-case UUIDv7).
 *
 * @example
 * ```ts
 * isEventId(eventId()); // true
 * ```
 */
export function isEventId(id: string): boolean {
  return UUID_V7.test(id);
}

/**
 * The epoch milliseconds a UUIDv7 carries.
 *
 * @example
 * ```ts
 * eventIdTime(eventId(1700000000000)); // 1700000000000
 * ```
 */
export function eventIdTime(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
