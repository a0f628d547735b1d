import { parsePositiveInt, type OptionParser, type OptionSpec } from './option-specs';
import { parseNonNegativeInt } from './operations-option-specs';

/** Deferred: this module and option-specs.ts import each other, so nothing of it is read at load time. */
const positiveInt: OptionParser<number> = (raw, source) => parsePositiveInt(raw, source);
const nonNegativeInt: OptionParser<number> = (raw, source) => parseNonNegativeInt(raw, source);

const limit = (key: string, flag: string, env: string, defaultText: string, help: string, parse: OptionParser<unknown>): OptionSpec => ({
  key,
  flag,
  env: [env],
  value: '<n>',
  defaultText,
  help,
  parse,
});

/** Limits that keep what one key holder sends from costing everybody (see docs/security.md). */
export const LIMIT_OPTION_SPECS: readonly OptionSpec[] = [
  limit(
    'newUnitsPerMinute',
    'new-units-per-minute',
    'SWITCHYARD_NEW_UNITS_PER_MINUTE',
    '1000',
    'New units one client key may introduce per minute (burst as large); events of further new units are refused per event. 0 = no limit.',
    nonNegativeInt,
  ),
  limit(
    'maxFlagBytes',
    'max-flag-bytes',
    'SWITCHYARD_MAX_FLAG_BYTES',
    '262144',
    'Largest flag, segment or experiment in a config document (JSON bytes); a larger write is refused (413).',
    positiveInt,
  ),
  limit(
    'maxConfigBytes',
    'max-config-bytes',
    'SWITCHYARD_MAX_CONFIG_BYTES',
    '16777216',
    'Largest config document of one environment (JSON bytes); a write that would exceed it is refused (413).',
    positiveInt,
  ),
];
