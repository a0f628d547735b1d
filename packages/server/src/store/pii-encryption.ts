import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { AuditRecord, AuditRow, Page, Store, UnitOfWork, UserRow } from './types';

/** Prefix of an encrypted field value: versioned, so the scheme can change without guessing. */
const SEALED = 'pii:v1:';

/** Seals and opens personal data under keys derived from the master key. */
export interface PiiCipher {
  /**
   * Deterministic (the IV is an HMAC of the text): equal inputs give equal outputs, so an
   * encrypted email can still be looked up and kept unique. It reveals only equality.
   */
  sealLookup(text: string): string;
  /** Randomized: the same address twice gives two unrelated values. */
  seal(text: string): string;
  /** The clear text of a sealed value; anything else (written before encryption) as it is. */
  open(value: string): string;
}

/** Whether a stored value is one of {@link PiiCipher}'s. */
export function isSealed(value: string | null | undefined): boolean {
  return typeof value === 'string' && value.startsWith(SEALED);
}

/**
 * AES-256-GCM with keys derived (HKDF) from the master key, separately from the keys that seal
 * the signing keyring. A value that fails to open (another master key) is an error, never
 * shown as garbage.
 *
 * @example
 * ```ts
 * const pii = piiCipher(process.env.SWITCHYARD_MASTER_KEY!);
 * pii.open(pii.sealLookup('ana@example.com')); // 'ana@example.com'
 * ```
 */
export function piiCipher(masterKey: string): PiiCipher {
  const ikm = Buffer.from(masterKey, 'utf8');
  const encKey = Buffer.from(hkdfSync('sha256', ikm, 'switchyard', 'pii encryption v1', 32));
  const ivKey = Buffer.from(hkdfSync('sha256', ikm, 'switchyard', 'pii lookup iv v1', 32));
  const sealWith = (iv: Buffer, text: string) => {
    const cipher = createCipheriv('aes-256-gcm', encKey, iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return `${SEALED}${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  };
  return {
    sealLookup: (text) => sealWith(createHmac('sha256', ivKey).update(text, 'utf8').digest().subarray(0, 12), text),
    seal: (text) => sealWith(randomBytes(12), text),
    open(value) {
      if (!isSealed(value)) return value;
      const [iv, body, tag] = value.slice(SEALED.length).split('.');
      try {
        const decipher = createDecipheriv('aes-256-gcm', encKey, Buffer.from(iv ?? '', 'base64url'));
        decipher.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body ?? '', 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('SWITCHYARD_MASTER_KEY does not open the encrypted personal data in the database (a different master key?)');
      }
    },
  };
}

/** Emails compare case-insensitively; the encrypted form is of the lower-cased address. */
const normalizeEmail = (email: string) => email.trim().toLowerCase();

/**
 * The store with personal data encrypted at rest: users' emails, and in audit records the
 * actor's label, IP address and user agent, the before/after diffs, and the key of user records. `encrypt: false` still opens what an earlier start encrypted (so the setting can be
 * turned off). Everything else passes through: the result inherits every method of `store`.
 */
export function withPiiEncryption(store: Store, pii: PiiCipher, encrypt: boolean): Store {
  const openUser = (u: UserRow | null): UserRow | null => (u === null ? null : { ...u, email: pii.open(u.email) });
  const sealUser = (u: UserRow): UserRow => (encrypt ? { ...u, email: pii.sealLookup(normalizeEmail(u.email)) } : u);
  const openText = (v: string | null): string | null => (v === null ? null : pii.open(v));
  const sealText = (v: string | null): string | null => (v === null ? null : pii.seal(v));
  const openJson = (v: unknown): unknown => (typeof v === 'string' && isSealed(v) ? (JSON.parse(pii.open(v)) as unknown) : v);
  const sealJson = (v: unknown): unknown => (v === null || v === undefined ? v : pii.seal(JSON.stringify(v)));
  const openAudit = (r: AuditRow): AuditRow => ({
    ...r,
    actorLabel: openText(r.actorLabel),
    resourceKey: openText(r.resourceKey),
    before: openJson(r.before),
    after: openJson(r.after),
    ip: openText(r.ip),
    userAgent: openText(r.userAgent),
  });
  // A person's email can be in any audit record (the actor's label, a user record's key and
  // diff, the address a failed login tried): labels and diffs are sealed whole. The columns the
  // audit log filters on (action, resource type and id, actor id, environment) stay in clear.
  const sealAudit = (a: AuditRecord): AuditRecord => ({
    ...a,
    actorLabel: sealText(a.actorLabel),
    resourceKey: a.resourceType === 'user' || a.action.startsWith('auth.') ? sealText(a.resourceKey) : a.resourceKey,
    before: sealJson(a.before),
    after: sealJson(a.after),
    ip: sealText(a.ip),
    userAgent: sealText(a.userAgent),
  });
  const wrapped = Object.create(store) as Store;
  Object.assign(wrapped, {
    async commit(work: UnitOfWork) {
      const writes = work.writes.map((w) => (w.table === 'users' && w.action !== 'delete' ? { ...w, row: sealUser(w.row) } : w));
      const audit =
        work.audit === undefined || !encrypt ? work.audit : Array.isArray(work.audit) ? work.audit.map(sealAudit) : sealAudit(work.audit);
      return store.commit({ ...work, writes, ...(audit === undefined ? {} : { audit }) });
    },
    getUser: async (id: string) => openUser(await store.getUser(id)),
    async getUserByEmail(email: string) {
      // The sealed form first; then the clear one (a row the start-up pass has not converted yet).
      const sealed = encrypt ? await store.getUserByEmail(pii.sealLookup(normalizeEmail(email))) : null;
      if (sealed !== null) return openUser(sealed);
      const clear = await store.getUserByEmail(email);
      if (clear !== null) return openUser(clear);
      // Encryption turned off: rows sealed earlier are found by their sealed form until converted.
      return encrypt ? null : openUser(await store.getUserByEmail(pii.sealLookup(normalizeEmail(email))));
    },
    async listUsers(after: number | undefined, limit: number): Promise<Page<UserRow>> {
      const page = await store.listUsers(after, limit);
      return { ...page, items: page.items.map((u) => openUser(u)!) };
    },
    async listAudit(filter: Parameters<Store['listAudit']>[0]): Promise<Page<AuditRow>> {
      const page = await store.listAudit(filter);
      return { ...page, items: page.items.map(openAudit) };
    },
  });
  return wrapped;
}

/**
 * Brings every user's email to the configured form at start: encrypted when `encrypt`, in clear
 * otherwise. Without a cipher, an encrypted email is a refusal to start: the server could not
 * sign anybody in. Returns how many rows changed. Audit records keep the form they were written in.
 */
export async function reconcileUserEmails(raw: Store, pii: PiiCipher | null, encrypt: boolean): Promise<number> {
  let changed = 0;
  let after: number | undefined;
  for (;;) {
    const page = await raw.listUsers(after, 500);
    for (const u of page.items) {
      if (pii === null) {
        if (isSealed(u.email))
          throw new Error('user emails in this database are encrypted: start with the SWITCHYARD_MASTER_KEY they were encrypted under');
        continue;
      }
      const clear = pii.open(u.email);
      const target = encrypt ? pii.sealLookup(normalizeEmail(clear)) : clear;
      if (target === u.email) continue;
      await raw.commit({ writes: [{ table: 'users', action: 'update', row: { ...u, email: target } }] });
      changed++;
    }
    if (page.nextCursor === null) return changed;
    after = page.nextCursor;
  }
}
