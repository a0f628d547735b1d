import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import shim from '../src/murmur-x86-32';

// The package core depends on, resolved from core's own node_modules.
const reference = createRequire(createRequire(import.meta.url).resolve('@switchyard/core'))('murmurhash3js-revisited') as {
  x86: { hash32(bytes: Uint8Array, seed?: number): number };
};
const hashFile: { cases: { name: string; input: string; hash: number }[] } = JSON.parse(
  readFileSync(new URL('../../../spec/hash.json', import.meta.url), 'utf8'),
);

describe('the murmurhash3js-revisited stand-in of the local bundles', () => {
  it.each(hashFile.cases.map((c) => [c.name, c] as const))('spec/hash.json: %s', (_name, c) => {
    expect(shim.x86.hash32(new TextEncoder().encode(c.input), 0)).toBe(c.hash);
  });

  it('agrees with the package on 100,000 random byte strings and seeds', () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let n = 0; n < 100_000; n++) {
      const bytes = new Uint8Array(next() % 70);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      const s = n % 5 === 0 ? next() : 0;
      const want = reference.x86.hash32(bytes, s) >>> 0;
      if (shim.x86.hash32(bytes, s) !== want)
        expect({ bytes: Array.from(bytes), seed: s, got: shim.x86.hash32(bytes, s) }).toEqual({
          bytes: Array.from(bytes),
          seed: s,
          got: want,
        });
    }
  });
});
