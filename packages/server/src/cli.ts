#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs, suggest, UsageError, type FlagTable } from './cli-args';
import { helpTopics, MAIN_HELP, optionHelp, RESET_PASSWORD_HELP, ROTATE_SIGNING_KEY_HELP, serveHelp, USAGE_LINE } from './cli-help';
import { OPTION_SPECS, OptionError } from './option-specs';
import { resolveOptions } from './options';

const COMMON: FlagTable = { help: { takesValue: false }, debug: { takesValue: false } };
const SHORTS = { h: 'help', v: 'version' };
const SERVE_FLAGS: FlagTable = {
  ...COMMON,
  ...Object.fromEntries(OPTION_SPECS.filter((s) => s.flag !== null).map((s) => [s.flag as string, { takesValue: s.value !== null }])),
};
const RESET_FLAGS: FlagTable = {
  ...COMMON,
  email: { takesValue: true },
  db: { takesValue: true },
  'database-url': { takesValue: true },
};
const ROTATE_FLAGS: FlagTable = {
  ...COMMON,
  'retire-now': { takesValue: false },
  db: { takesValue: true },
  'database-url': { takesValue: true },
};
const ADMIN_COMMANDS = ['reset-password', 'rotate-signing-key'];
const COMMANDS = ['serve', 'admin', 'help'];

function version(): string {
  // dist/cli.js and src/cli.ts both sit one level below the package root.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : text + '\n');

/** Flags minus the CLI's own (`help`, `debug`), i.e. the settings. */
function settingsOf(flags: Record<string, string | boolean>): Record<string, string | boolean> {
  const { help: _help, debug: _debug, ...rest } = flags;
  return rest;
}

async function serve(argv: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(argv, SERVE_FLAGS, SHORTS);
  if (flags.help === true) return (out(serveHelp()), 0);
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments (got '${positionals[0]}')`);
  // Every flag and variable is checked here, before a database file is created or opened.
  const options = resolveOptions({}, process.env, settingsOf(flags));
  // The server, the stores and their drivers are loaded only by the commands that run them, so
  // help, --version and a mistyped flag answer without loading them (most of the start-up time).
  const { startServer } = await import('./server');
  const server = await startServer({ ...options, env: {} });
  out(`Switchyard is listening on ${server.url} (API docs: ${server.url}/docs)`);
  const stop = (signal: string) => {
    server.ctx.logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.ctx.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: a second signal during the shutdown must not fall back to the default
  // action and kill the process before close() has finished (close() runs once however called).
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return -1;
}

async function admin(argv: string[]): Promise<number> {
  const sub = argv.find((a) => !a.startsWith('-'));
  if (sub === 'rotate-signing-key') return rotateKey(argv.filter((a) => a !== sub));
  const { positionals, flags } = parseArgs(argv, RESET_FLAGS, SHORTS);
  if (sub === undefined && flags.help === true) return (out(RESET_PASSWORD_HELP), 0);
  if (sub !== 'reset-password') {
    const near = sub === undefined ? null : suggest(sub, ADMIN_COMMANDS);
    throw new UsageError(
      sub === undefined
        ? "admin needs a subcommand: 'reset-password' or 'rotate-signing-key'"
        : `unknown admin command '${sub}'${near ? ` (did you mean ${near}?)` : ''}`,
    );
  }
  if (flags.help === true) return (out(RESET_PASSWORD_HELP), 0);
  if (positionals.length > 1) throw new UsageError(`reset-password takes no arguments (got '${positionals[1]}')`);
  const { email, ...settings } = settingsOf(flags);
  const options = resolveOptions({}, process.env, settings);
  if (email === true) throw new UsageError('--email needs a value');
  const { resetPassword } = await import('./admin-reset-password');
  const result = await resetPassword(options, typeof email === 'string' ? email : options.adminEmail);
  out(
    result.password === null
      ? `The password of ${result.email} is now the one in SWITCHYARD_ADMIN_PASSWORD.`
      : `New password for ${result.email} (shown once, stored only as a hash):\n  ${result.password}`,
  );
  return 0;
}

async function rotateKey(argv: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(argv, ROTATE_FLAGS, SHORTS);
  if (flags.help === true) return (out(ROTATE_SIGNING_KEY_HELP), 0);
  if (positionals.length > 0) throw new UsageError(`rotate-signing-key takes no arguments (got '${positionals[0]}')`);
  const { 'retire-now': retireNow, ...settings } = settingsOf(flags);
  const options = resolveOptions({}, process.env, settings);
  const { rotateSigningKey } = await import('./admin-rotate-signing-key');
  const result = await rotateSigningKey(options, retireNow === true);
  out(
    `New signing key ${result.kid} (${result.source}); running instances use it within seconds.\n` +
      (retireNow === true
        ? 'Tokens signed by earlier keys are refused from now on: everyone signs in again.'
        : 'Tokens signed by the previous key stay valid until they expire (at most a day).'),
  );
  return 0;
}

function help(argv: string[]): number {
  // Topics may look like flags ('switchyard help --port'): everything after 'help' is the topic.
  const topic = argv.filter((a) => a !== '--debug').join(' ');
  if (topic === '') return (out(MAIN_HELP), 0);
  if (topic === 'serve') return (out(serveHelp()), 0);
  if (topic === 'admin' || topic === 'admin reset-password' || topic === 'reset-password') return (out(RESET_PASSWORD_HELP), 0);
  if (topic === 'admin rotate-signing-key' || topic === 'rotate-signing-key') return (out(ROTATE_SIGNING_KEY_HELP), 0);
  const one = optionHelp(topic);
  if (one !== null) return (out(one), 0);
  const near = suggest(topic.replace(/^--/, ''), helpTopics());
  throw new UsageError(`no help for '${topic}'${near ? ` (did you mean '${near}'?)` : ''}`);
}

async function run(argv: string[]): Promise<number> {
  const at = argv.findIndex((a) => !a.startsWith('-'));
  const command = at === -1 ? undefined : argv[at];
  const rest = at === -1 ? argv : [...argv.slice(0, at), ...argv.slice(at + 1)];
  if (command === 'serve') return serve(rest);
  if (command === 'admin') return admin(rest);
  if (command === 'help') return help(rest);
  if (command !== undefined) {
    const near = suggest(command, COMMANDS);
    throw new UsageError(`unknown command '${command}'${near ? ` (did you mean '${near}'?)` : ''}`);
  }
  const { flags } = parseArgs(argv, { ...COMMON, version: { takesValue: false } }, SHORTS);
  if (flags.version === true) return (out(version()), 0);
  if (flags.help === true) return (out(MAIN_HELP), 0);
  process.stderr.write(MAIN_HELP + '\n');
  return 2;
}

/** One line for what went wrong, worded for the person at the terminal. */
function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e.code === 'EADDRINUSE') return `port ${e.port} on ${e.address} is already in use; choose another with --port or SWITCHYARD_PORT`;
  if (e.code === 'EACCES' && e.syscall === 'listen')
    return `not allowed to listen on port ${e.port}; use a port above 1023 or run with the right privileges`;
  if (e.code === 'EADDRNOTAVAIL') return `cannot listen on ${e.address}: no such address on this machine; check --host or SWITCHYARD_HOST`;
  return e instanceof Error ? e.message : String(err);
}

const argv = process.argv.slice(2);
const debug = argv.includes('--debug');
run(argv).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof OptionError) {
      process.stderr.write(`switchyard: ${err.message}\n${USAGE_LINE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`switchyard: ${describe(err)}${debug ? '' : ' (--debug shows the stack trace)'}\n`);
    if (debug) process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
