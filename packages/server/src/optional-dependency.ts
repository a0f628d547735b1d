/** Raised when a configured feature needs a package that is not installed. */
export class MissingDependencyError extends Error {
  override readonly name = 'MissingDependencyError';
}

/**
 * Loads an optional peer dependency only when the feature that needs it is configured, so a
 * SQLite-only install never needs `pg` or `ioredis`. A missing package becomes a one-line
 * error saying how to install it; any other load failure is passed on unchanged.
 *
 * @example
 * ```ts
 * const { default: pg } = await loadOptional('pg', 'SWITCHYARD_DATABASE_URL (PostgreSQL)', () => import('pg'));
 * ```
 */
export async function loadOptional<T>(name: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && e.message.includes(`'${name}'`)) {
      throw new MissingDependencyError(
        `${feature} needs the '${name}' package, which is not installed: run 'npm install ${name}' (or 'pnpm add ${name}') next to @switchyard/server`,
      );
    }
    throw err;
  }
}
