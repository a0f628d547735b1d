import { OPTION_SPECS, type OptionSpec } from './option-specs';

const DOCS_URL = 'https://github.com/switchyard-dev/switchyard/tree/main/docs';

/** The one usage line printed under a usage error. */
export const USAGE_LINE =
  "Usage: switchyard <serve|admin reset-password|admin rotate-signing-key|help> [options]  (run 'switchyard --help' for more)";

/** `switchyard --help`. */
export const MAIN_HELP = `Switchyard: feature flags and A/B experiments, evaluated in the SDKs and kept in sync over SSE.

Usage: switchyard <command> [options]

Commands:
  serve                   Run the server (SQLite by default; PostgreSQL and Redis for several instances)
  admin reset-password    Set a new password for a user of the store (printed once, or from SWITCHYARD_ADMIN_PASSWORD)
  admin rotate-signing-key  Make a new key sign access tokens (the old one verifies for a day, or --retire-now)
  help [command|option]   Help for a command or one option, e.g. 'switchyard help serve', 'switchyard help port'

Options:
  -h, --help              Show help (after a command: that command's help)
  -v, --version           Print the version
  --debug                 Show the stack trace of an error

Docs: ${DOCS_URL}`;

function optionLabel(s: OptionSpec): string {
  const flag = s.flag === null ? s.env[0] : `--${s.flag}`;
  return s.value === null ? (flag as string) : `${flag} ${s.value}`;
}

/** `switchyard serve --help`: every setting with its variables and default. */
export function serveHelp(): string {
  const rows = OPTION_SPECS.map((s) => {
    const env = s.flag === null ? 'environment only' : s.env.join(', ');
    return `  ${optionLabel(s).padEnd(34)}${s.help}\n  ${''.padEnd(34)}[${env}; default: ${s.defaultText}]`;
  });
  return `Usage: switchyard serve [options]

Runs the server. Every option can also be set by its environment variable; a flag wins over
its variable. Values are checked before the database is opened.

Options:
${rows.join('\n')}
  --debug                           Show the stack trace of an error
  -h, --help                        Show this help ('switchyard help <option>' for one option)

Docs: ${DOCS_URL}/configuration.md`;
}

/** `switchyard admin reset-password --help`. */
export const RESET_PASSWORD_HELP = `Usage: switchyard admin reset-password [--email <email>] [--db <file> | --database-url <url>]

Sets a new password for a local user of the store (by default the first admin,
SWITCHYARD_ADMIN_EMAIL or admin@switchyard.local). The new password is taken from
SWITCHYARD_ADMIN_PASSWORD when set, otherwise generated and printed once. A running server
accepts it at the next login; the change is recorded in the audit log.

Options:
  --email <email>          The user whose password to set        [SWITCHYARD_ADMIN_EMAIL]
  --db <file>              SQLite database file                  [SWITCHYARD_DB; default: .switchyard/switchyard.db]
  --database-url <url>     PostgreSQL store instead              [SWITCHYARD_DATABASE_URL]
  --debug                  Show the stack trace of an error
  -h, --help               Show this help`;

/** `switchyard help <option>`: one setting, found by flag, variable or field name; `null` if unknown. */
export function optionHelp(name: string): string | null {
  const bare = name.replace(/^--/, '');
  const s = OPTION_SPECS.find((o) => o.flag === bare || o.env.includes(name) || o.key === bare);
  if (s === undefined) return null;
  return [
    optionLabel(s),
    `  ${s.help}`,
    `  environment: ${s.env.join(', ')}${s.flag === null ? ' (no flag: secrets stay off the command line)' : ''}`,
    `  default: ${s.defaultText}`,
  ].join('\n');
}

/** Every name `switchyard help` understands, for suggestions. */
export function helpTopics(): string[] {
  return ['serve', 'admin', 'reset-password', ...OPTION_SPECS.flatMap((s) => [...(s.flag === null ? [] : [s.flag]), ...s.env])];
}

/** `switchyard admin rotate-signing-key --help`. */
export const ROTATE_SIGNING_KEY_HELP = `Usage: switchyard admin rotate-signing-key [--retire-now] [--db <file> | --database-url <url>]

Makes a new key sign the server's access tokens; running instances pick it up within seconds.
The previous key keeps verifying for a day, so people stay signed in until their tokens run
out; with --retire-now it stops at once (a leaked key: everyone signs in again). For keyrings
the server generated (a key file beside the SQLite database, or sealed in the database under
SWITCHYARD_MASTER_KEY). With SWITCHYARD_JWT_SECRET, rotate by putting a new secret first in
that list instead. The rotation is recorded in the audit log.

Options:
  --retire-now             Stop accepting tokens signed by earlier keys at once
  --db <file>              SQLite database file                  [SWITCHYARD_DB; default: .switchyard/switchyard.db]
  --database-url <url>     PostgreSQL store instead              [SWITCHYARD_DATABASE_URL]
  --debug                  Show the stack trace of an error
  -h, --help               Show this help`;
