import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { isPrivateAddress } from './webhook-address';

/** Why a target URL is refused. */
export class WebhookTargetError extends Error {
  override readonly name = 'WebhookTargetError';
}

/** The host of a URL as DNS or the socket wants it: IPv6 literals without their brackets. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Checks the form of a webhook URL: http(s), no credentials. Throws a {@link WebhookTargetError}.
 *
 * @example
 * ```ts
 * const url = parseTargetUrl('https://hooks.example.com/switchyard');
 * ```
 */
export function parseTargetUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetError('is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookTargetError('must be an http or https URL');
  if (url.username !== '' || url.password !== '') throw new WebhookTargetError('must not carry credentials');
  return url;
}

/** Every address a host name resolves to (an IP literal resolves to itself). */
export function resolveAll(host: string): Promise<{ address: string; family: number }[]> {
  const family = isIP(host);
  if (family !== 0) return Promise.resolve([{ address: host, family }]);
  return new Promise((resolve, reject) =>
    lookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

/** Refuses a host any of whose addresses is private, loopback or link-local. */
function assertPublic(host: string, addresses: readonly { address: string }[]): void {
  const bad = addresses.find((a) => isPrivateAddress(a.address));
  if (bad !== undefined)
    throw new WebhookTargetError(
      `resolves to ${bad.address}, a private, loopback or link-local address (set SWITCHYARD_WEBHOOK_ALLOW_PRIVATE=1 to allow such targets)`,
    );
  if (addresses.length === 0) throw new WebhookTargetError(`'${host}' resolves to no address`);
}

/**
 * Checks a target before it is saved or sent to: its form, and unless `allowPrivate`, every
 * address its host resolves to (IPv4 and IPv6). Throws a {@link WebhookTargetError}.
 */
export async function checkTarget(raw: string, allowPrivate: boolean): Promise<URL> {
  const url = parseTargetUrl(raw);
  if (allowPrivate) return url;
  const host = hostOf(url);
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolveAll(host);
  } catch (e) {
    throw new WebhookTargetError(`host '${host}' cannot be resolved (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  assertPublic(host, addresses);
  return url;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;

/**
 * A `lookup` for `http.request` that refuses private addresses at connect time, so a host that
 * resolved to a public address when it was checked cannot switch to a private one for the
 * connection (DNS rebinding).
 */
export function guardedLookup(host: string, options: { all?: boolean | undefined }, callback: LookupCallback): void {
  resolveAll(host).then(
    (addresses) => {
      try {
        assertPublic(host, addresses);
      } catch (e) {
        callback(Object.assign(e as Error, { code: 'EWEBHOOKTARGET' }), '');
        return;
      }
      if (options.all === true) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    },
    (err: NodeJS.ErrnoException) => callback(err, ''),
  );
}
