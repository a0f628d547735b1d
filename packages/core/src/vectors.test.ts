import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import murmur from 'murmurhash3js-revisited';
import { bucket, compileConfig, createBucketer, evaluate, hash32, OPERATORS, Reason } from './index';
import { validateConfig } from './schema';
import type { EvaluationVector, EvaluationVectors } from './spec-vectors';

// The published vectors in /spec: every SDK runs the same files (see spec/README.md).
const spec = (name: string): any => JSON.parse(readFileSync(new URL(`../../../spec/${name}`, import.meta.url), 'utf8'));

interface HashCase {
  name: string;
  input: string;
  utf8: string;
  hash: number;
}
interface BucketCase {
  salt: string;
  unit: string;
  input: string;
  hash: number;
  bucket: number;
}
const hashFile: { cases: HashCase[] } = spec('hash.json');
const bucketFile: { cases: BucketCase[] } = spec('bucket.json');
const evalFile: EvaluationVectors = spec('evaluation.json');

const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const bytesOf = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

describe('spec/hash.json', () => {
  it('has the promised coverage', () => {
    const inputs = hashFile.cases.map((c) => c.input);
    expect(inputs).toContain('');
    for (const len of [1, 2, 3]) expect(hashFile.cases.some((c) => c.utf8.length / 2 > 4 && (c.utf8.length / 2) % 4 === len)).toBe(true);
    expect(inputs.some((s) => s.length >= 1000)).toBe(true);
    expect(inputs.some((s) => /[\u0080-\u00ff]/.test(s))).toBe(true); // Latin-1
    expect(inputs.some((s) => /[\u4e00-\u9fff]/.test(s))).toBe(true); // CJK
    expect(inputs.some((s) => /[\ud800-\udbff][\udc00-\udfff]/.test(s))).toBe(true); // surrogate pairs
    expect(inputs.some((s) => /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s))).toBe(true); // lone surrogates
  });

  it.each(hashFile.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    // The file is self-consistent: its bytes are TextEncoder's and its hash is the reference's...
    expect(hexOf(new TextEncoder().encode(c.input))).toBe(c.utf8);
    expect(murmur.x86.hash32(bytesOf(c.utf8), 0) >>> 0).toBe(c.hash);
    // ...and core agrees.
    expect(hash32(c.input)).toBe(c.hash);
  });
});

describe('spec/bucket.json', () => {
  it('covers both ends of the range', () => {
    const buckets = bucketFile.cases.map((c) => c.bucket);
    expect(buckets).toContain(0);
    expect(buckets).toContain(9999);
  });

  it.each(bucketFile.cases.map((c) => [`${JSON.stringify(c.salt)} / ${JSON.stringify(c.unit).slice(0, 40)}`, c] as const))(
    '%s',
    (_n, c) => {
      expect(c.input).toBe(`${c.salt}.${c.unit}`);
      expect(murmur.x86.hash32(new TextEncoder().encode(c.input), 0) >>> 0).toBe(c.hash);
      expect(Number((BigInt(c.hash) * 10000n) / 4294967296n)).toBe(c.bucket);
      expect(hash32(c.input)).toBe(c.hash);
      expect(bucket(c.salt, c.unit)).toBe(c.bucket);
      expect(createBucketer(c.salt)(c.unit)).toBe(c.bucket);
    },
  );
});

describe('spec/evaluation.json', () => {
  const compiled = new Map<string, ReturnType<typeof compileConfig>>();
  const configOf = (c: EvaluationVector) => evalFile.configs[c.config]!;
  const compiledOf = (c: EvaluationVector) => {
    let out = compiled.get(c.config);
    if (out === undefined) compiled.set(c.config, (out = compileConfig(evalFile.configs[c.config]!)));
    return out;
  };

  it('has at least 100 uniquely named cases that all point at a known config', () => {
    expect(evalFile.cases.length).toBeGreaterThanOrEqual(100);
    expect(new Set(evalFile.cases.map((c) => c.name)).size).toBe(evalFile.cases.length);
    for (const c of evalFile.cases) if (typeof c.config === 'string') expect(evalFile.configs, c.name).toHaveProperty([c.config]);
  });

  it('uses every operator and reaches every reason an evaluation can give', () => {
    const ops = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (typeof o.op === 'string' && typeof o.attr === 'string') ops.add(o.op);
        Object.values(o).forEach(walk);
      }
    };
    walk(evalFile.configs);
    expect([...ops].sort()).toEqual([...OPERATORS].sort());
    const reasons = new Set(evalFile.cases.map((c) => c.expected.reason));
    for (const r of [Reason.DEFAULT, Reason.TARGETING_MATCH, Reason.SPLIT, Reason.DISABLED, Reason.PREREQUISITE_FAILED, Reason.ERROR])
      expect(reasons).toContain(r);
    const codes = new Set(evalFile.cases.map((c) => c.expected.errorCode));
    for (const code of ['FLAG_NOT_FOUND', 'TYPE_MISMATCH', 'TARGETING_KEY_MISSING']) expect(codes).toContain(code);
  });

  it.each(Object.entries(evalFile.configs))('config %s is accepted by the schema unless marked invalid', (_name, config) => {
    const { valid, ...document } = config;
    const r = validateConfig(document);
    expect(r.ok, r.ok ? '' : JSON.stringify(r.issues)).toBe(valid !== false);
  });

  it.each(evalFile.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(configOf(c)).toBeDefined();
    const d = evaluate(compiledOf(c), c.flag, c.context, c.default);
    const e = c.expected;
    expect(d.value).toEqual(e.value);
    expect(d.variant).toBe(e.variant);
    expect(d.reason).toBe(e.reason);
    // Optional fields: absent in `expected` means absent in the result.
    expect(d.ruleId).toBe(e.ruleId);
    expect(d.errorCode).toBe(e.errorCode);
    expect(d.inExperiment).toBe(e.inExperiment);
    expect(d.experiment).toBe(e.experiment);
  });
});
