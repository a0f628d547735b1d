import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMemoryPath } from './writer';

/** A store that cannot be used as configured; the message says what to change. */
export class StoreAccessError extends Error {
  override readonly name = 'StoreAccessError';
}

function writable(path: string): string | null {
  try {
    accessSync(path, constants.W_OK);
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'not writable';
  }
}

/**
 * Refuses a SQLite path the server could open but not write: SQLite would fall back to read-only
 * and the server would look ready while failing every write. WAL mode also creates `-wal` and
 * `-shm` files beside the database, so its directory must be writable too.
 *
 * @example
 * ```ts
 * assertSqliteWritable('.switchyard/switchyard.db');
 * ```
 */
export function assertSqliteWritable(path: string): void {
  if (isMemoryPath(path)) return;
  const file = resolve(path);
  const hint = 'check the owner and permissions, or choose another file with --db / SWITCHYARD_DB';
  if (existsSync(file)) {
    if (!statSync(file).isFile()) throw new StoreAccessError(`cannot use the database '${path}': it is not a file (${hint})`);
    const fileErr = writable(file);
    if (fileErr !== null) throw new StoreAccessError(`cannot write the database file '${path}' (${fileErr}); ${hint}`);
  }
  // The nearest existing directory must take new files (the database itself, its -wal and -shm).
  let dir = dirname(file);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const dirErr = writable(dir);
  if (dirErr !== null) throw new StoreAccessError(`cannot write in the directory '${dir}' of the database '${path}' (${dirErr}); ${hint}`);
}
