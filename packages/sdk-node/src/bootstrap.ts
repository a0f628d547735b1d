import { readFileSync } from 'node:fs';
import type { ConfigDocument } from '@switchyard/core';
import { SwitchyardError } from './errors';

/**
 * Reads the `bootstrap` option: a document object as is, or a JSON file (e.g. a copy of
 * `GET /sdk/v1/config` saved at deploy time). Read synchronously at start-up so a wrong path fails
 * `createClient` loudly instead of silently serving defaults.
 */
export function loadBootstrap(bootstrap: ConfigDocument | string): unknown {
  if (typeof bootstrap !== 'string') return bootstrap;
  let text: string;
  try {
    text = readFileSync(bootstrap, 'utf8');
  } catch (err) {
    throw new SwitchyardError('INVALID_OPTIONS', `cannot read the bootstrap file ${bootstrap}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new SwitchyardError('INVALID_OPTIONS', `the bootstrap file ${bootstrap} is not JSON: ${(err as Error).message}`, { cause: err });
  }
}
