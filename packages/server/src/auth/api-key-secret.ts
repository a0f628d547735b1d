import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyKind } from '../store/types';

const PREFIX: Record<ApiKeyKind, string> = { server: 'sy_srv_', client: 'sy_cli_', management: 'sy_mgt_' };

/**
 * A new API key secret: a kind-revealing prefix plus 192 random bits. High entropy makes a
 * plain SHA-256 the right stored form: nothing to brute-force, and lookups stay one index hit.
 *
 * @example
 * ```ts
 * const { secret, hash, prefix } = newApiKeySecret('server');
 * ```
 */
export function newApiKeySecret(kind: ApiKeyKind): { secret: string; hash: string; prefix: string } {
  const secret = PREFIX[kind] + randomBytes(24).toString('base64url');
  return { secret, hash: hashApiKey(secret), prefix: secret.slice(0, 12) };
}

/** The stored form of a key secret. */
export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
