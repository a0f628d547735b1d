import type { ServerOptions } from '../../options';

/** Where this server keeps its state, as an operator would name it on the command line. */
function storeFlag(options: Pick<ServerOptions, 'databaseUrl' | 'dbPath'>): string {
  if (options.databaseUrl !== undefined) return '(with the same SWITCHYARD_DATABASE_URL)';
  return `--db ${/\s/.test(options.dbPath) ? JSON.stringify(options.dbPath) : options.dbPath}`;
}

/**
 * The lines printed on a start that found existing users: first-start secrets are shown only
 * once, so this says where they went and how to get back in.
 *
 * @example
 * ```ts
 * process.stdout.write(describeLaterStart(options) + '\n');
 * ```
 */
export function describeLaterStart(options: Pick<ServerOptions, 'databaseUrl' | 'dbPath' | 'adminEmail'>): string {
  const where = options.databaseUrl !== undefined ? 'the PostgreSQL store' : `the store at ${options.dbPath}`;
  return [
    '',
    `Switchyard is using ${where}, which already has users.`,
    'The admin password and SDK keys were printed once, on its first start; only their hashes are kept.',
    `  lost the admin password?  switchyard admin reset-password ${storeFlag(options)}`,
    '  need an SDK key?          an admin creates one: POST /api/v1/api-keys (see docs/api.md)',
    '',
  ].join('\n');
}

/** The warning for a SWITCHYARD_ADMIN_PASSWORD that a store with users does not use. */
export function ignoredPasswordWarning(options: Pick<ServerOptions, 'databaseUrl' | 'dbPath'>): string {
  return (
    'warning: SWITCHYARD_ADMIN_PASSWORD is ignored: this store already has users (it only sets the first admin password). ' +
    `To change a password: switchyard admin reset-password ${storeFlag(options)}`
  );
}
