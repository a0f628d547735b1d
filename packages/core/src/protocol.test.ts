import { describe, expect, it } from 'vitest';
import {
  classifyBatchFailure,
  classifyBatchResponse,
  configEtag,
  etagMatches,
  eventId,
  eventIdTime,
  experimentUnitOf,
  fromWire,
  isEventId,
  HEARTBEAT_INTERVAL_MS,
  MISSED_HEARTBEATS_BEFORE_STALE,
  STALE_AFTER_MS,
  parseRetryAfter,
  patchAction,
  resumeVersion,
  splitBatch,
  SwitchyardError,
  toResolution,
  toWire,
  unitIdOf,
} from './protocol';
import type { EvaluationContext } from './types';

describe('unitIdOf', () => {
  it.each([
    [{ key: 'u1' }, 'u1'],
    [{ key: '' }, null],
    [{ key: 42 }, '42'],
    [{ key: 1.5 }, '1.5'],
    [{ key: Number.NaN }, null],
    [{ key: Infinity }, null],
    [{ key: true }, null],
    [{ key: null }, null],
    [{}, null],
    [{ key: ['u1'] }, null],
  ])('%j -> %j', (context, unit) => {
    expect(unitIdOf(context as EvaluationContext)).toBe(unit);
  });

  it('reads the bucket_by attribute of an experiment', () => {
    expect(experimentUnitOf({ bucket_by: 'company_id' }, { key: 'u1', company_id: 'acme' })).toBe('acme');
    expect(experimentUnitOf({ bucket_by: 'company_id' }, { key: 'u1', company_id: '' })).toBeNull();
    expect(experimentUnitOf(undefined, { key: 'u1' })).toBe('u1');
  });
});

describe('eventId', () => {
  it('is a UUIDv7 carrying the time', () => {
    const id = eventId(1_700_000_000_123);
    expect(isEventId(id)).toBe(true);
    expect(eventIdTime(id)).toBe(1_700_000_000_123);
  });

  it('is unique and sorts by time', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => eventId(1_700_000_000_000 + i));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });
});

describe('classifyBatchResponse', () => {
  const err400 = (indexes: number[]) =>
    JSON.stringify({
      error: { code: 'VALIDATION_ERROR', message: 'bad', details: indexes.map((index) => ({ index, path: `events.${index}` })) },
    });

  it('any 2xx is committed', () => {
    expect(classifyBatchResponse(202, '{"data":{"accepted":3,"duplicates":1}}', null, 4)).toEqual({ kind: 'ok' });
    expect(classifyBatchResponse(200, '', null, 4)).toEqual({ kind: 'ok' });
  });

  it.each([408, 429, 500, 502, 503])('%i is retried, honouring Retry-After', (status) => {
    expect(classifyBatchResponse(status, '', '3', 10)).toEqual({ kind: 'retry', status, retryAfterMs: 3000, reason: `HTTP ${status}` });
  });

  it('413 splits a batch, and drops a single event', () => {
    expect(classifyBatchResponse(413, '', null, 10)).toEqual({ kind: 'split', status: 413 });
    expect(classifyBatchResponse(413, '{"error":{"code":"PAYLOAD_TOO_LARGE","message":"big"}}', null, 1)).toMatchObject({
      kind: 'drop',
      indexes: [0],
    });
  });

  it('400 drops only the named indexes (in range, sorted, once)', () => {
    expect(classifyBatchResponse(400, err400([3, 1, 1, 99]), null, 5)).toMatchObject({ kind: 'drop', status: 400, indexes: [1, 3] });
  });

  it('a 400 naming no event, or another 4xx, drops the whole batch', () => {
    expect(classifyBatchResponse(400, '{"error":{"code":"VALIDATION_ERROR","details":[{"path":"events"}]}}', null, 3)).toMatchObject({
      indexes: [0, 1, 2],
    });
    expect(classifyBatchResponse(403, 'nope', null, 2)).toEqual({ kind: 'drop', status: 403, code: 'HTTP 403', indexes: [0, 1] });
  });

  it('a failed request is retried', () => {
    expect(classifyBatchFailure(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))).toEqual({
      kind: 'retry',
      status: null,
      retryAfterMs: null,
      reason: 'ECONNREFUSED',
    });
  });

  it('reads Retry-After as seconds or a date, capped', () => {
    expect(parseRetryAfter('1.5')).toBe(1500);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1000)).toBe(60_000);
    expect(parseRetryAfter('99999')).toBe(300_000);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });

  it('splits in halves', () => {
    expect(splitBatch([1, 2, 3])).toEqual([[1, 2], [3]]);
  });
});

describe('stream resume rules', () => {
  it('calls a stream stale after three missed heartbeats', () => {
    expect(STALE_AFTER_MS).toBe(HEARTBEAT_INTERVAL_MS * MISSED_HEARTBEATS_BEFORE_STALE);
  });

  it('applies only the next version, ignores old ones and refetches after a gap', () => {
    expect(patchAction(4, 5)).toBe('apply');
    expect(patchAction(4, 4)).toBe('ignore');
    expect(patchAction(4, 2)).toBe('ignore');
    expect(patchAction(4, 6)).toBe('refetch');
    expect(patchAction(null, 1)).toBe('refetch');
  });

  it('reads a resume version only from a plain integer', () => {
    expect(resumeVersion('42')).toBe(42);
    expect(resumeVersion('-1')).toBeNull();
    expect(resumeVersion('4x')).toBeNull();
    expect(resumeVersion(undefined)).toBeNull();
  });
});

describe('etag', () => {
  it('formats and matches', () => {
    expect(configEtag(7)).toBe('"v7"');
    expect(etagMatches('W/"v7"', '"v7"')).toBe(true);
    expect(etagMatches('"v6", "v7"', '"v7"')).toBe(true);
    expect(etagMatches('*', '"v7"')).toBe(true);
    expect(etagMatches('"v6"', '"v7"')).toBe(false);
    expect(etagMatches(undefined, '"v7"')).toBe(false);
  });
});

describe('wire details', () => {
  it('round-trip, with the unit only for an enrolled unit', () => {
    const d = { value: 'b', variant: 'b', reason: 'SPLIT' as const, ruleId: 'r', inExperiment: true };
    const w = toWire(d, 'acme');
    expect(w).toEqual({ value: 'b', variant: 'b', reason: 'SPLIT', rule_id: 'r', in_experiment: true, unit_id: 'acme' });
    expect(fromWire(w)).toEqual({ ...d, unitId: 'acme' });
    expect(toWire({ value: 1, variant: null, reason: 'DEFAULT', inExperiment: false }, 'acme')).not.toHaveProperty('unit_id');
  });
});

describe('OpenFeature mapping', () => {
  it('keeps reasons and error codes and moves the rest to metadata', () => {
    expect(toResolution({ value: false, variant: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' })).toEqual({
      value: false,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
      errorMessage: 'no flag or experiment with this key in the config',
      flagMetadata: {},
    });
    expect(toResolution({ value: 'b', variant: 'b', reason: 'SPLIT', ruleId: 'r', inExperiment: true }, 9)).toEqual({
      value: 'b',
      variant: 'b',
      reason: 'SPLIT',
      flagMetadata: { ruleId: 'r', inExperiment: true, configVersion: 9 },
    });
  });
});

describe('SwitchyardError', () => {
  it('carries code, status and cause', () => {
    const cause = new Error('x');
    const e = new SwitchyardError('HTTP_ERROR', 'boom', { status: 502, cause });
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.code, e.status, e.cause]).toEqual(['SwitchyardError', 'HTTP_ERROR', 502, cause]);
  });
});
