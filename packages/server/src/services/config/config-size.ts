import type { ConfigDocument, ConfigPatch } from '@switchyard/core';
import { ApiError, type ErrorDetail } from '../../errors';
import type { ServerContext } from '../context';

const SECTIONS = ['flags', 'segments', 'experiments'] as const;
type Section = (typeof SECTIONS)[number];
const NOUN: Record<Section, string> = { flags: 'flag', segments: 'segment', experiments: 'experiment' };

/**
 * JSON bytes of each entry of a config document, by object identity: entries are immutable and
 * shared between successive documents, so each is measured once, not on every write.
 */
const entryBytes = new WeakMap<object, number>();

function bytesOf(value: object): number {
  let n = entryBytes.get(value);
  if (n === undefined) {
    n = Buffer.byteLength(JSON.stringify(value));
    entryBytes.set(value, n);
  }
  return n;
}

/** An entry's share of its document: `"key":` plus the value and a comma. */
const entryShare = (key: string, value: object): number => Buffer.byteLength(key) + 4 + bytesOf(value);

/**
 * The size of a config document in JSON bytes, as the sum of its entries (within a few bytes of
 * `JSON.stringify(doc)`): cheap enough for every write, even at thousands of flags.
 */
export function configDocumentBytes(doc: ConfigDocument): number {
  let total = 80;
  for (const section of SECTIONS)
    for (const [key, value] of Object.entries(doc[section] as Record<string, object>)) total += entryShare(key, value);
  return total;
}

/**
 * Refuses, before anything is written, a change that would make one flag, segment or experiment
 * larger than `maxFlagBytes` in an environment's config document, or that document larger than
 * `maxConfigBytes`: a `413 PAYLOAD_TOO_LARGE` naming the limit. Changes that shrink the document
 * (deletions, smaller entries) always pass, so an over-limit document can be brought back under.
 * Checked against this instance's live document; concurrent writes on several instances can
 * together overshoot the document limit by what they add at once.
 *
 * @example
 * ```ts
 * await checkConfigSize(ctx, { production: { flags: { 'new-checkout': flag } } });
 * ```
 */
export async function checkConfigSize(ctx: ServerContext, patches: Record<string, Omit<ConfigPatch, 'version'>>): Promise<void> {
  const { maxFlagBytes, maxConfigBytes } = ctx.options;
  const details: ErrorDetail[] = [];
  for (const [environment, patch] of Object.entries(patches)) {
    const doc = (await ctx.environments.get(environment)).config.document;
    let delta = 0;
    for (const section of SECTIONS) {
      const changes = patch[section] as Record<string, object | null> | undefined;
      if (changes === undefined) continue;
      const current = doc[section] as Record<string, object>;
      for (const [key, value] of Object.entries(changes)) {
        const before = Object.hasOwn(current, key) ? entryShare(key, current[key]!) : 0;
        const after = value === null ? 0 : entryShare(key, value);
        delta += after - before;
        const bytes = value === null ? 0 : bytesOf(value);
        if (bytes > maxFlagBytes && after > before)
          details.push({
            path: `${section}.${key}`,
            environment,
            bytes,
            limit: maxFlagBytes,
            setting: 'SWITCHYARD_MAX_FLAG_BYTES',
            message: `the ${NOUN[section]} '${key}' would take ${bytes} bytes in the config document of '${environment}'; at most ${maxFlagBytes} bytes per flag, segment or experiment (SWITCHYARD_MAX_FLAG_BYTES)`,
          });
      }
    }
    if (delta <= 0) continue;
    const total = configDocumentBytes(doc) + delta;
    if (total > maxConfigBytes)
      details.push({
        path: 'config',
        environment,
        bytes: total,
        limit: maxConfigBytes,
        setting: 'SWITCHYARD_MAX_CONFIG_BYTES',
        message: `the config document of '${environment}' would be ${total} bytes; at most ${maxConfigBytes} bytes (SWITCHYARD_MAX_CONFIG_BYTES)`,
      });
  }
  if (details.length > 0)
    throw new ApiError(
      'PAYLOAD_TOO_LARGE',
      details.length === 1 ? details[0]!.message : `${details.length} config size limits would be exceeded; nothing was changed`,
      details,
    );
}
