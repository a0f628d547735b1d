import type { ConfigDocument, ConfigPatch } from '@switchyard/core';

/** The sections of a config document whose entries are measured. */
export const CONFIG_SECTIONS = ['flags', 'segments', 'experiments'] as const;
export type ConfigSection = (typeof CONFIG_SECTIONS)[number];

/** What the document holds besides its entries (`schema_version`, `version`, braces), rounded up. */
const ENVELOPE_BYTES = 80;

/**
 * JSON bytes of each entry of a config document, by object identity: entries are immutable and
 * shared between successive documents, so each is measured once, not on every write.
 */
const entryBytes = new WeakMap<object, number>();

/** The JSON size of one flag, segment or experiment (measured once per object). */
export function bytesOf(value: object): number {
  let n = entryBytes.get(value);
  if (n === undefined) {
    n = Buffer.byteLength(JSON.stringify(value));
    entryBytes.set(value, n);
  }
  return n;
}

/** An entry's share of its document: `"key":` plus the value and a comma. */
export const entryShare = (key: string, value: object): number => Buffer.byteLength(key) + 4 + bytesOf(value);

/**
 * The size of a config document in JSON bytes, as the sum of its entries (within a few bytes of
 * `JSON.stringify(doc)`). Walks every entry: for a live document use the running total its
 * `ConfigState` keeps (`bytes`), which {@link patchBytesDelta} advances per patch.
 *
 * @example
 * ```ts
 * const bytes = configDocumentBytes(state.document);
 * ```
 */
export function configDocumentBytes(doc: ConfigDocument): number {
  let total = ENVELOPE_BYTES;
  for (const section of CONFIG_SECTIONS)
    for (const [key, value] of Object.entries(doc[section] as Record<string, object>)) total += entryShare(key, value);
  return total;
}

/**
 * How many bytes `doc` grows by (negative: shrinks) when `patch` is applied to it. Looks only
 * at what the patch names, so it costs the same at 10 flags and at 10,000.
 *
 * @example
 * ```ts
 * const after = state.bytes + patchBytesDelta(state.document, { flags: { 'new-checkout': flag } });
 * ```
 */
export function patchBytesDelta(doc: ConfigDocument, patch: Omit<ConfigPatch, 'version'>): number {
  let delta = 0;
  for (const section of CONFIG_SECTIONS) {
    const changes = patch[section] as Record<string, object | null> | undefined;
    if (changes === undefined) continue;
    const current = doc[section] as Record<string, object>;
    for (const [key, value] of Object.entries(changes)) {
      if (Object.hasOwn(current, key)) delta -= entryShare(key, current[key]!);
      if (value !== null) delta += entryShare(key, value);
    }
  }
  return delta;
}
