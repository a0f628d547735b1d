import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { ConfigStore } from '../src/config-store';
import { changedKeys as changedKeysTyped } from '../src/changed-keys';
import type { ConfigDocument } from '@switchyard/core';
import { Emitter } from '../src/emitter';
import { BoundedQueue } from '../src/events/queue';
import { ExposureLru } from '../src/exposure-lru';
import { parseRetryAfter } from '@switchyard/core/protocol';
import { silentLogger, safeLogger, consoleLogger } from '../src/logger';
import { resolveOptions } from '../src/options';
import { Backoff } from '../src/sync/backoff';
import { SDK_VERSION } from '../src/version';
import { memoryLogger } from './support/logger';

const doc = <E extends Record<string, unknown>>(version: number, extra: E = {} as E) => ({
  schema_version: 1 as const,
  version,
  flags: {},
  segments: {},
  experiments: {},
  ...extra,
});
const flag = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  type: 'boolean',
  enabled: true,
  variants: [
    { key: 'on', value: true },
    { key: 'off', value: false },
  ],
  off_variant: 'off',
  default_serve: { variant: 'on' },
  ...extra,
});

describe('Backoff (full jitter)', () => {
  it('draws uniformly below an exponentially growing ceiling, capped', () => {
    const b = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual([99, 199, 399, 799, 999, 999]);
    expect(b.attempts).toBe(6);
    b.reset();
    expect(b.next()).toBe(99);
  });

  it('can return zero (full jitter, not equal jitter) and never exceeds the cap even after many attempts', () => {
    const zero = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, random: () => 0 });
    expect(zero.next()).toBe(0);
    const b = new Backoff({ initialDelayMs: 1000, maxDelayMs: 30_000 });
    for (let i = 0; i < 2000; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(30_000);
    }
    expect(b.ceiling(2000)).toBe(30_000);
  });

  it('spreads delays across the whole range', () => {
    const b = new Backoff({ initialDelayMs: 1000, maxDelayMs: 1000 });
    const ds = Array.from({ length: 500 }, () => b.next());
    expect(Math.min(...ds)).toBeLessThan(100);
    expect(Math.max(...ds)).toBeGreaterThan(900);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, caps, and ignores junk', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('99999')).toBe(5 * 60_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('')).toBeNull();
  });
});

describe('BoundedQueue', () => {
  it('keeps FIFO order, drops the oldest when full and counts the drops', () => {
    const q = new BoundedQueue<number>(3);
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(2);
    expect(q.take(2)).toEqual([3, 4]);
    q.push(6);
    q.push(7);
    expect(q.take(10)).toEqual([5, 6, 7]);
    expect(q.size).toBe(0);
    expect(q.take(1)).toEqual([]);
  });

  it('wraps around many times without losing order', () => {
    const q = new BoundedQueue<number>(7);
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 5; i++) q.push(next++);
      out.push(...q.take(3 + (round % 3)));
    }
    out.push(...q.take(100));
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(new Set(out).size).toBe(out.length);
    expect(out.length + q.dropped).toBe(next);
  });
});

describe('ExposureLru', () => {
  it('reports a pair once, per experiment, and forgets pairs not seen for a generation', () => {
    const lru = new ExposureLru(4); // generations of 2 pairs
    expect(lru.add('e1', 'u1', 'v')).toBe(true);
    expect(lru.add('e1', 'u1', 'v')).toBe(false);
    expect(lru.add('e2', 'u1', 'v')).toBe(true); // another experiment, same unit; generation full
    expect(lru.size).toBe(2);
    expect(lru.add('e1', 'u1', 'v')).toBe(false); // in the old generation: still remembered, moved young
    expect(lru.add('e1', 'u2', 'v')).toBe(true); // generation full again: e2/u1 (not seen since) is dropped
    expect(lru.has('e2', 'u1')).toBe(false);
    expect(lru.has('e1', 'u1')).toBe(true);
    expect(lru.add('e2', 'u1', 'v')).toBe(true); // forgotten, so exposed again
    expect(lru.add('e1', 'u1', 'v')).toBe(false); // old -> young; the generation fills and turns over
    expect(lru.add('e1', 'u2', 'v')).toBe(true); // u2 was not seen during the last generation
  });

  it('reports a pair again when its variant changes (a rollout moving a unit to the new arm), in either generation', () => {
    const lru = new ExposureLru(6); // generations of 3 pairs
    expect(lru.add('r', 'u1', 'off')).toBe(true);
    expect(lru.add('r', 'u1', 'off')).toBe(false);
    expect(lru.add('r', 'u1', 'on')).toBe(true); // moved: expose again
    expect(lru.add('r', 'u1', 'on')).toBe(false);
    expect(lru.size).toBe(1); // one pair, whatever its variant
    expect(lru.add('r', 'u2', 'off')).toBe(true);
    expect(lru.add('r', 'u3', 'off')).toBe(true); // generation full: u1..u3 are old now
    expect(lru.add('r', 'u2', 'off')).toBe(false); // old, same variant: remembered
    expect(lru.add('r', 'u3', 'on')).toBe(true); // old, another variant: news
    expect(lru.add('r', 'u3', 'on')).toBe(false);
    expect(lru.size).toBe(3);
  });

  it('stays bounded under many distinct pairs and keeps the recent ones', () => {
    const lru = new ExposureLru(100);
    for (let i = 0; i < 10_000; i++) {
      lru.add(`e${i % 7}`, `u${i}`, 'v');
      expect(lru.size).toBeLessThanOrEqual(100);
    }
    for (let i = 9_950; i < 10_000; i++) expect(lru.has(`e${i % 7}`, `u${i}`)).toBe(true);
    expect(lru.has('e0', 'u0')).toBe(false);
  });

  it('never forgets a pair seen at least once every capacity / 2 new pairs', () => {
    const lru = new ExposureLru(10);
    expect(lru.add('e', 'hot', 'v')).toBe(true);
    for (let i = 0; i < 1000; i++) {
      lru.add('e', `cold-${i}`, 'v');
      if (i % 4 === 0) expect(lru.add('e', 'hot', 'v')).toBe(false);
    }
  });
});

describe('Emitter', () => {
  it('survives throwing listeners and an error with no listener', () => {
    const log = memoryLogger();
    const e = new Emitter<{ a: number; error: Error }>(log);
    const seen: number[] = [];
    e.on('a', () => {
      throw new Error('boom');
    });
    const off = e.on('a', (n) => seen.push(n));
    expect(() => e.emit('error', new Error('nobody listens'))).not.toThrow();
    e.emit('a', 1);
    off();
    e.emit('a', 2);
    expect(seen).toEqual([1]);
    expect(log.at('error')[0]?.message).toContain("'a' listener threw");
    let once = 0;
    e.once('a', () => once++);
    e.emit('a', 3);
    e.emit('a', 4);
    expect(once).toBe(1);
  });
});

describe('loggers', () => {
  it('the default logger is silent and a throwing logger is contained', () => {
    const spy = vi.spyOn(console, 'log');
    silentLogger.error('nothing');
    const safe = safeLogger({
      debug: () => {
        throw new Error('x');
      },
      info: () => {},
      warn: () => {},
      error: () => {},
    });
    expect(() => safe.debug('m')).not.toThrow();
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('consoleLogger filters by level', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const l = consoleLogger('warn');
    l.debug('hidden');
    l.warn('shown', { a: 1 });
    expect(debug).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith('[switchyard] shown', { a: 1 });
    warn.mockRestore();
    debug.mockRestore();
  });
});

describe('resolveOptions', () => {
  it('requires a key and a URL unless offline, and fills defaults', () => {
    expect(() => resolveOptions({ baseUrl: 'http://x' })).toThrow(/sdkKey/);
    expect(() => resolveOptions({ sdkKey: 'k' })).toThrow(/baseUrl/);
    expect(() => resolveOptions({ sdkKey: 'k', baseUrl: 'ftp://x' })).toThrow(/http/);
    expect(() => resolveOptions({ sdkKey: 'k', baseUrl: 'http://x', staleAfterMs: -1 })).toThrow(/staleAfterMs/);
    const o = resolveOptions({ sdkKey: 'k', baseUrl: 'http://x/', events: { batchSize: 5000 } });
    expect(o.baseUrl).toBe('http://x');
    expect(o.streamBaseUrl).toBe('http://x');
    expect(o.events).toMatchObject({ capacity: 10_000, batchSize: 1000, flushIntervalMs: 2000 });
    expect(o.staleAfterMs).toBe(45_000);
    expect(o.reconnect).toEqual({ initialDelayMs: 1000, maxDelayMs: 30_000 });
    expect(resolveOptions({ offline: true }).offline).toBe(true);
  });

  it('SDK_VERSION matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SDK_VERSION).toBe(pkg.version);
  });
});

describe('ConfigStore', () => {
  it('applies the next version, ignores older or equal ones and reports gaps', () => {
    const s = new ConfigStore();
    expect(s.patch({ version: 1 }).status).toBe('gap'); // nothing to patch yet
    expect(s.replace(doc(5, { flags: { a: flag('a') } }), 'server').status).toBe('applied');
    expect(s.replace(doc(5), 'server')).toEqual({ status: 'ignored', version: 5 });
    expect(s.replace(doc(4), 'server')).toEqual({ status: 'ignored', version: 4 });
    expect(s.patch({ version: 5, flags: { a: null } })).toEqual({ status: 'ignored', version: 5 });
    expect(s.patch({ version: 7, flags: { a: null } })).toEqual({ status: 'gap', version: 7, expected: 6 });
    const r = s.patch({ version: 6, flags: { b: flag('b') } });
    expect(r).toMatchObject({ status: 'applied', change: { version: 6, previousVersion: 5, keys: ['b'] } });
    expect(s.compiled?.entries.has('a')).toBe(true);
    expect(s.compiled?.entries.has('b')).toBe(true);
  });

  it('keeps the held config when given junk', () => {
    const s = new ConfigStore();
    s.replace(doc(1, { flags: { a: flag('a') } }), 'server');
    const before = s.compiled;
    for (const junk of [
      null,
      'x',
      [],
      { version: 2 },
      { schema_version: 2, version: 2 },
      { schema_version: 1, version: -1 },
      { schema_version: 1, version: 2, flags: [] },
      { schema_version: 1, version: 2, flags: { a: 3 } },
    ]) {
      expect(s.replace(junk, 'server').status).toBe('invalid');
    }
    for (const junk of [null, { flags: {} }, { version: '2' }, { version: 2, flags: { a: 'x' } }])
      expect(s.patch(junk).status).toBe('invalid');
    expect(s.compiled).toBe(before);
    expect(s.version).toBe(1);
  });

  it('lets the first server document replace a bootstrap one whatever the versions', () => {
    const s = new ConfigStore();
    s.replace(doc(100), 'bootstrap');
    expect(s.fromServer).toBe(false);
    expect(s.patch({ version: 101 }).status).toBe('gap');
    expect(s.replace(doc(3), 'server').status).toBe('applied');
    expect(s.fromServer).toBe(true);
    expect(s.version).toBe(3);
  });

  it('remembers each experiment unit attribute', () => {
    const s = new ConfigStore();
    s.replace(
      doc(1, { experiments: { e: { key: 'e', status: 'RUNNING', variants: [{ key: 'a', weight: 100 }], bucket_by: 'company_id' } } }),
      'server',
    );
    expect(s.unitAttribute('e')).toBe('company_id');
    expect(s.unitAttribute('other')).toBe('key');
  });

  it('updates the unit attributes of the experiments a patch names, and reads no other', () => {
    const s = new ConfigStore();
    const exp = (key: string, bucketBy?: string) => ({
      key,
      status: 'RUNNING',
      variants: [{ key: 'a', weight: 100 }],
      ...(bucketBy === undefined ? {} : { bucket_by: bucketBy }),
    });
    s.replace(doc(1, { experiments: { e: exp('e', 'company_id'), f: exp('f', 'org_id'), g: exp('g', 'team_id') } }), 'server');
    // An experiment the patches below do not name: reading its unit would be a rescan.
    let reads = 0;
    Object.defineProperty(s.document!.experiments.g, 'bucket_by', {
      get: () => {
        reads++;
        return 'team_id';
      },
    });
    expect(s.patch({ version: 2, experiments: { e: exp('e'), h: exp('h', 'device_id') } }).status).toBe('applied');
    expect(s.patch({ version: 3, experiments: { f: null } }).status).toBe('applied');
    expect(reads).toBe(0);
    expect(['e', 'f', 'g', 'h'].map((k) => s.unitAttribute(k))).toEqual(['key', 'key', 'team_id', 'device_id']);
    // A whole document replaces them all.
    s.replace(doc(4, { experiments: { e: exp('e', 'account_id') } }), 'server');
    expect(['e', 'g', 'h'].map((k) => s.unitAttribute(k))).toEqual(['account_id', 'key', 'key']);
  });
});

// Literal test documents widen `type: 'boolean'` to string; the function only reads them.
const changedKeys = (a: unknown, b: unknown) => changedKeysTyped(a as ConfigDocument, b as ConfigDocument);

describe('changedKeys', () => {
  const base = doc(1, {
    segments: { beta: { key: 'beta', included: ['u1'] }, wrap: { key: 'wrap', when: { segment: 'beta' } } },
    flags: {
      direct: flag('direct', { rules: [{ id: 'r', when: { segment: 'beta' }, serve: { variant: 'on' } }] }),
      nested: flag('nested', { rules: [{ id: 'r', when: { all: [{ not: { segment: 'wrap' } }] }, serve: { variant: 'on' } }] }),
      child: flag('child', { prerequisites: [{ flag: 'direct', variants: ['on'] }] }),
      unrelated: flag('unrelated'),
    },
    experiments: { exp: { key: 'exp', status: 'RUNNING', variants: [{ key: 'a', weight: 100 }], targeting: { segment: 'wrap' } } },
  });

  it('follows segments (through segments) and prerequisites', () => {
    const next = { ...base, version: 2, segments: { ...base.segments, beta: { key: 'beta', included: ['u2'] } } };
    expect(changedKeys(base, next)).toEqual(['child', 'direct', 'exp', 'nested']);
  });

  it('follows a changed experiment to the flags that serve it, and their dependents', () => {
    const served = {
      ...base,
      flags: {
        ...base.flags,
        checkout: flag('checkout', { default_serve: { experiment: 'exp' } }),
        ruled: flag('ruled', { rules: [{ id: 'r', when: { segment: 'beta' }, serve: { experiment: 'exp' } }] }),
        gated: flag('gated', { prerequisites: [{ flag: 'checkout', variants: ['on'] }] }),
      },
    };
    const next = { ...served, version: 2, experiments: { exp: { ...served.experiments.exp, status: 'PAUSED' } } };
    expect(changedKeys(served, next)).toEqual(['checkout', 'exp', 'gated', 'ruled']);
  });

  it('reports only what changed, deletions included', () => {
    const { unrelated: _u, ...flags } = base.flags;
    const next = { ...base, version: 2, flags: { ...flags, direct: { ...base.flags.direct, enabled: false } } };
    expect(changedKeys(base, next)).toEqual(['child', 'direct', 'unrelated']);
    expect(changedKeys(base, { ...base, version: 2 })).toEqual([]);
  });
});
