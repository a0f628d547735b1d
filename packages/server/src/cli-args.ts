import { OptionError } from './option-specs';

/** A mistake in how the command was typed: reported in one line with the usage, exit code 2. */
export class UsageError extends OptionError {}

/** What a command accepts: flag name (no dashes) → whether it takes a value. */
export type FlagTable = Record<string, { takesValue: boolean }>;

/** Parsed command line: positionals in order, flags by name (`true` for a switch given without a value). */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | boolean>;
}

/** Edit distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const here = row[j] as number;
      row[j] = Math.min(here + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = here;
    }
  }
  return row[b.length] as number;
}

/**
 * The closest known word, if it is close enough to be a likely typo (or `known` starts with it).
 *
 * @example
 * ```ts
 * suggest('prot', ['port', 'host']); // 'port'
 * ```
 */
export function suggest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const k of known) {
    const d = k.startsWith(word) && word.length >= 2 ? 1 : distance(word, k);
    if (d < bestScore) {
      best = k;
      bestScore = d;
    }
  }
  return best !== null && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

/**
 * Parses `--name value`, `--name=value`, `--switch`, `-h`/`-v` and positionals; everything
 * after `--` is positional. Unknown flags and missing values throw a {@link UsageError}.
 *
 * @example
 * ```ts
 * parseArgs(['serve', '--port', '8080'], { port: { takesValue: true } });
 * // { positionals: ['serve'], flags: { port: '8080' } }
 * ```
 */
export function parseArgs(argv: readonly string[], table: FlagTable, shorts: Record<string, string> = {}): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (/^-[a-zA-Z]$/.test(arg)) {
      const long = shorts[arg.slice(1)];
      if (long === undefined) throw new UsageError(`unknown option '${arg}'`);
      out.flags[long] = true;
      continue;
    }
    if (!arg.startsWith('--') || arg.length === 2) {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const def = table[name];
    if (def === undefined) {
      const near = suggest(name, Object.keys(table));
      throw new UsageError(`unknown option '--${name}'${near === null ? '' : ` (did you mean --${near}?)`}`);
    }
    if (eq !== -1) {
      out.flags[name] = arg.slice(eq + 1);
    } else if (def.takesValue) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UsageError(`--${name} needs a value`);
      out.flags[name] = next;
      i++;
    } else {
      out.flags[name] = true;
    }
  }
  return out;
}
