/** Failed logins an account may have in a row before it is locked. */
const FREE_FAILURES = 5;
/** The first lock; each further failure while counted doubles it, up to {@link MAX_LOCK_MS}. */
const FIRST_LOCK_MS = 30_000;
const MAX_LOCK_MS = 15 * 60_000;
/** Accounts tracked at once; the oldest are forgotten first (bounded memory under a spray attack). */
const MAX_ACCOUNTS = 50_000;

interface Failures {
  count: number;
  lockedUntil: number;
}

/**
 * Per-account login lockout with exponential backoff: after five failed logins in a row an
 * account is locked for 30 s, then 60 s, ... up to 15 min per further failure; a success
 * clears it. Keyed by the email as typed (lower-cased), whether or not the account exists, so
 * the answer reveals nothing about which emails have accounts. Per instance, in memory: several
 * instances each count on their own (the per-IP login rate limit is shared through Redis).
 *
 * @example
 * ```ts
 * const guard = createLoginGuard();
 * const wait = guard.lockedFor('ada@example.com', Date.now()); // 0 when a try is allowed
 * ```
 */
export function createLoginGuard() {
  const accounts = new Map<string, Failures>();
  const keyOf = (email: string) => email.trim().toLowerCase();
  return {
    /** Milliseconds until the account may try again; 0 when it may now. */
    lockedFor(email: string, now: number): number {
      const f = accounts.get(keyOf(email));
      return f === undefined ? 0 : Math.max(0, f.lockedUntil - now);
    },
    failed(email: string, now: number): void {
      const key = keyOf(email);
      const f = accounts.get(key) ?? { count: 0, lockedUntil: 0 };
      accounts.delete(key);
      f.count++;
      if (f.count >= FREE_FAILURES) f.lockedUntil = now + Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (f.count - FREE_FAILURES));
      accounts.set(key, f);
      if (accounts.size > MAX_ACCOUNTS) accounts.delete(accounts.keys().next().value!);
    },
    succeeded(email: string): void {
      accounts.delete(keyOf(email));
    },
  };
}

/** The login guard's type. */
export type LoginGuard = ReturnType<typeof createLoginGuard>;
