import type { ConfigPatch } from '@switchyard/core';
import { ApiError, type ErrorDetail } from '../../errors';
import type { ServerContext } from '../context';
import { bytesOf, CONFIG_SECTIONS, entryShare, type ConfigSection } from './config-bytes';

const NOUN: Record<ConfigSection, string> = { flags: 'flag', segments: 'segment', experiments: 'experiment' };

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
    const config = (await ctx.environments.get(environment)).config;
    const doc = config.document;
    let delta = 0;
    for (const section of CONFIG_SECTIONS) {
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
    // The running total the live config keeps: no walk over every flag on each write.
    const total = config.bytes + delta;
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
