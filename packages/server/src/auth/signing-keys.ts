import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Store } from '../store/types';

/** Shortest HS256 secret accepted: RFC 7518 asks for a key at least as long as the hash (32 bytes). */
export const MIN_SECRET_BYTES = 32;
/** Setting that holds the keyring encrypted under the master key. */
const KEYRING_SETTING = 'jwt_keyring';
/** Where releases before the keyring kept the secret, in clear. */
const LEGACY_SETTING = 'jwt_secret';
/** A key that no longer signs is kept this long, so the tokens it signed run out their lifetime. */
const RETIRED_KEY_MS = 24 * 3600 * 1000;
/**
 * A stored keyring is re-read at most this often while tokens are verified: another instance
 * (or `switchyard admin rotate-signing-key`) may have rotated it, and every instance should
 * sign with, and accept, the same keys within seconds.
 */
const RELOAD_EVERY_MS = 5000;

interface StoredKey {
  kid: string;
  secret: string;
  created_at: string;
  retired_at?: string;
}

/**
 * The keys that sign and verify the server's own access tokens. The first signs; the others
 * still verify until the tokens they signed have expired. Tokens name their key (`kid`).
 */
export interface SigningKeyring {
  /** Where the keys live: `environment`, `key-file`, `database (encrypted)` or `memory`. */
  readonly source: string;
  signingKey(): { kid: string; secret: Uint8Array };
  verificationKey(kid: string): Promise<Uint8Array | null>;
  /**
   * Makes a new key the signing one. The old ones keep verifying for a day (so sessions run
   * out their lifetime), or stop at once with `retirePrevious: 'now'` (a leaked key: everyone
   * signs in again).
   */
  rotate(options?: { retirePrevious?: 'after-expiry' | 'now' }): Promise<{ kid: string; retired: number }>;
}

/** A key's id: a prefix of its SHA-256, so the id reveals nothing usable about the key. */
export function kidOf(secret: Uint8Array): string {
  return createHash('sha256').update(secret).digest('base64url').slice(0, 16);
}

function newKey(now: number): StoredKey {
  const secret = randomBytes(32);
  return { kid: kidOf(secret), secret: secret.toString('base64url'), created_at: new Date(now).toISOString() };
}

/** AES-256-GCM under a key derived from the master key; the output names its format version. */
export function sealWithMasterKey(masterKey: string, plaintext: string): string {
  const key = deriveKey(masterKey);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/** Reverses {@link sealWithMasterKey}; a wrong master key or a tampered value throws. */
export function openWithMasterKey(masterKey: string, sealed: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) throw new Error('unknown sealed format');
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(masterKey), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}

function deriveKey(masterKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(masterKey, 'utf8'), 'switchyard', 'secrets-at-rest v1', 32));
}

/** Keys from `SWITCHYARD_JWT_SECRET`: comma-separated, the first signs (rotation by redeploying). */
function environmentKeyring(value: string): SigningKeyring {
  const secrets = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of secrets) {
    if (Buffer.byteLength(s, 'utf8') < MIN_SECRET_BYTES)
      throw new Error(`SWITCHYARD_JWT_SECRET: each secret must be at least ${MIN_SECRET_BYTES} bytes (got ${Buffer.byteLength(s)})`);
  }
  const keys = secrets.map((s) => {
    const secret = new TextEncoder().encode(s);
    return { kid: kidOf(secret), secret };
  });
  const byKid = new Map(keys.map((k) => [k.kid, k.secret]));
  return {
    source: 'environment',
    signingKey: () => keys[0]!,
    verificationKey: async (kid) => byKid.get(kid) ?? null,
    rotate: async () => {
      throw new Error('the signing keys come from SWITCHYARD_JWT_SECRET: rotate by putting a new secret first in that list');
    },
  };
}

/** Where a generated keyring is kept between starts. */
interface KeyringBackend {
  source: string;
  load(): Promise<StoredKey[] | null>;
  save(keys: StoredKey[]): Promise<void>;
}

function fileBackend(path: string): KeyringBackend {
  return {
    source: 'key-file',
    load: async () => (existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { keys: StoredKey[] }).keys : null),
    save: async (keys) => {
      writeFileSync(path, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o600 });
      chmodSync(path, 0o600);
    },
  };
}

function sealedBackend(store: Store, masterKey: string): KeyringBackend {
  return {
    source: 'database (encrypted)',
    load: async () => {
      const sealed = await store.getSetting(KEYRING_SETTING);
      if (sealed === null || sealed === '') return null;
      try {
        return (JSON.parse(openWithMasterKey(masterKey, sealed)) as { keys: StoredKey[] }).keys;
      } catch {
        throw new Error('SWITCHYARD_MASTER_KEY does not open the signing keys stored in the database (a different master key?)');
      }
    },
    save: async (keys) => store.setSetting(KEYRING_SETTING, sealWithMasterKey(masterKey, JSON.stringify({ keys }))),
  };
}

function memoryBackend(): KeyringBackend {
  let held: StoredKey[] | null = null;
  return {
    source: 'memory',
    load: async () => held,
    save: async (keys) => {
      held = keys;
    },
  };
}

async function storedKeyring(backend: KeyringBackend, now: () => number): Promise<SigningKeyring> {
  let keys: StoredKey[] = (await backend.load()) ?? [];
  if (keys.length === 0) {
    keys = [newKey(now())];
    await backend.save(keys);
  }
  let decoded = decode(keys);
  let loadedAt = now();
  function decode(list: StoredKey[]) {
    return new Map(list.map((k) => [k.kid, new Uint8Array(Buffer.from(k.secret, 'base64url'))]));
  }
  return {
    source: backend.source,
    signingKey: () => ({ kid: keys[0]!.kid, secret: decoded.get(keys[0]!.kid)! }),
    async verificationKey(kid) {
      if (now() - loadedAt >= RELOAD_EVERY_MS) {
        loadedAt = now();
        // An unreadable store keeps the keys held: a database hiccup must not sign anyone out.
        const fresh = await backend.load().catch(() => null);
        if (fresh !== null && fresh.length > 0) {
          keys = fresh;
          decoded = decode(fresh);
        }
      }
      return decoded.get(kid) ?? null;
    },
    async rotate(options = {}) {
      const at = now();
      const current: StoredKey[] = (await backend.load()) ?? keys;
      const kept =
        options.retirePrevious === 'now'
          ? []
          : current
              .map((k, i) => (i === 0 && k.retired_at === undefined ? { ...k, retired_at: new Date(at).toISOString() } : k))
              .filter((k) => k.retired_at === undefined || Date.parse(k.retired_at) + RETIRED_KEY_MS > at);
      const next = [newKey(at), ...kept];
      await backend.save(next);
      keys = next;
      decoded = decode(next);
      loadedAt = at;
      return { kid: next[0]!.kid, retired: current.length - kept.length };
    },
  };
}

/**
 * Resolves the signing keyring, never keeping a key in clear in the database:
 * `SWITCHYARD_JWT_SECRET` when set; else a generated keyring sealed (AES-256-GCM) in the
 * database under `SWITCHYARD_MASTER_KEY`; else, for a SQLite file, a key file beside it
 * (mode 0600); else (in-memory SQLite) keys held in memory. PostgreSQL with neither setting is
 * refused: instances must share one key, and the database is no place for it in clear.
 * A secret left in clear by an older release is removed.
 */
export async function resolveKeyring(
  store: Store,
  options: { jwtSecret: string | undefined; masterKey: string | undefined; dbPath: string },
  now: () => number,
): Promise<SigningKeyring> {
  const legacy = await store.getSetting(LEGACY_SETTING);
  if (legacy !== null && legacy !== '') await store.setSetting(LEGACY_SETTING, '');
  if (options.jwtSecret !== undefined && options.jwtSecret !== '') return environmentKeyring(options.jwtSecret);
  if (options.masterKey !== undefined && options.masterKey !== '') {
    if (Buffer.byteLength(options.masterKey, 'utf8') < MIN_SECRET_BYTES)
      throw new Error(`SWITCHYARD_MASTER_KEY must be at least ${MIN_SECRET_BYTES} bytes`);
    return storedKeyring(sealedBackend(store, options.masterKey), now);
  }
  if (store.kind === 'postgres')
    throw new Error(
      'with PostgreSQL, set SWITCHYARD_JWT_SECRET (the same value on every instance) or SWITCHYARD_MASTER_KEY (the signing keys are then kept encrypted in the database)',
    );
  if (options.dbPath === ':memory:' || options.dbPath === '') return storedKeyring(memoryBackend(), now);
  return storedKeyring(fileBackend(`${options.dbPath}.keys.json`), now);
}
