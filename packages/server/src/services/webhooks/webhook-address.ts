import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 ranges a webhook may not target: `[first octets, prefix length]`. */
const PRIVATE_V4: readonly [number[], number][] = [
  [[0], 8], // "this network"
  [[10], 8],
  [[100, 64], 10], // carrier-grade NAT
  [[127], 8],
  [[169, 254], 16], // link-local, cloud metadata
  [[172, 16], 12],
  [[192, 0, 0], 24],
  [[192, 0, 2], 24],
  [[192, 88, 99], 24],
  [[192, 168], 16],
  [[198, 18], 15],
  [[198, 51, 100], 24],
  [[203, 0, 113], 24],
  [[224], 4], // multicast
  [[240], 4], // reserved, broadcast
];

function inPrefix(bytes: readonly number[], prefix: readonly number[], bits: number): boolean {
  for (let i = 0; i < bits; i += 8) {
    const take = Math.min(8, bits - i);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i / 8] ?? 0) & mask) !== ((prefix[i / 8] ?? 0) & mask)) return false;
  }
  return true;
}

const v4Bytes = (ip: string): number[] => ip.split('.').map(Number);

function privateV4(bytes: readonly number[]): boolean {
  return PRIVATE_V4.some(([prefix, bits]) => inPrefix(bytes, prefix, bits));
}

/** The 16 bytes of an IPv6 address (dotted IPv4 tails included). */
function v6Bytes(ip: string): number[] {
  let text = ip.split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted !== null) {
    const b = v4Bytes(dotted[1]!);
    text = text.slice(0, -dotted[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

function privateV6(b: readonly number[]): boolean {
  const zeroUpTo = (n: number) => b.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(15) && (b[15] === 0 || b[15] === 1)) return true; // :: and ::1
  // IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96) and NAT64 (64:ff9b::/96) carry an IPv4 address.
  if (zeroUpTo(10) && b[10] === 0xff && b[11] === 0xff) return privateV4(b.slice(12));
  if (zeroUpTo(12)) return privateV4(b.slice(12));
  if (inPrefix(b, [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96)) return privateV4(b.slice(12));
  if (inPrefix(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return true; // local-use NAT64
  if (inPrefix(b, [0x20, 0x02], 16)) return privateV4(b.slice(2, 6)); // 6to4 embeds an IPv4 address
  if (inPrefix(b, [0x20, 0x01, 0x00, 0x00], 32)) return true; // Teredo: tunnels to an address it hides
  if (inPrefix(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return true; // documentation
  if (inPrefix(b, [0x01, 0x00], 64) && b.slice(2, 8).every((x) => x === 0)) return true; // discard
  if (inPrefix(b, [0xfc], 7)) return true; // unique local
  if (inPrefix(b, [0xfe, 0x80], 10)) return true; // link-local
  if (inPrefix(b, [0xfe, 0xc0], 10)) return true; // site-local (deprecated)
  if (inPrefix(b, [0xff], 8)) return true; // multicast
  return false;
}

/**
 * Whether an IP address is private, loopback, link-local or otherwise not a public unicast
 * address, for IPv4 and IPv6 alike, including IPv6 forms that embed an IPv4 address
 * (`::ffff:127.0.0.1`, NAT64, 6to4). Anything that is not an IP address counts as private.
 *
 * @example
 * ```ts
 * isPrivateAddress('::ffff:169.254.169.254'); // true
 * isPrivateAddress('93.184.216.34'); // false
 * ```
 */
export function isPrivateAddress(ip: string): boolean {
  if (isIPv4(ip)) return privateV4(v4Bytes(ip));
  if (isIPv6(ip)) return privateV6(v6Bytes(ip));
  return true;
}
