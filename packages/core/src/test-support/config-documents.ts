import { expect } from 'vitest';
import { validateConfig, type ConfigIssue } from '../schema';

/** A JSON object as the tests write it. */
export type Json = Record<string, unknown>;

/** A valid boolean flag `key`, with `extra` fields over it. */
export const flag = (key: string, extra: Json = {}): Json => ({
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
/** A valid running experiment `key`, with `extra` fields over it. */
export const exp = (key: string, extra: Json = {}): Json => ({
  key,
  status: 'RUNNING',
  variants: [
    { key: 'control', weight: 50 },
    { key: 'treatment', weight: 50, value: 'x' },
  ],
  ...extra,
});
/** A config document of these flags, segments and experiments. */
export const doc = (flags: Json = {}, segments: Json = {}, experiments: Json = {}): Json => ({
  schema_version: 1,
  version: 3,
  flags,
  segments,
  experiments,
});
/** A document whose one flag has one rule with this condition. */
export const withRule = (when: unknown) => doc({ f: flag('f', { rules: [{ id: 'r', when, serve: { variant: 'on' } }] }) });

/** The issues of a document `validateConfig` must reject. */
export function issues(input: unknown): ConfigIssue[] {
  const r = validateConfig(input);
  if (r.ok) throw new Error('expected the document to be rejected');
  return r.issues;
}
/** The single issue at `path`, whose message matches `message`. */
export function expectIssue(input: unknown, path: (string | number)[], message: RegExp): void {
  const all = issues(input);
  const at = all.filter((i) => JSON.stringify(i.path) === JSON.stringify(path));
  expect(at, `issues: ${JSON.stringify(all)}`).toHaveLength(1);
  expect(at[0]!.message).toMatch(message);
}
