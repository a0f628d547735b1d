import type { Logger } from 'pino';
import type { Actor } from '../auth/actor';

/** Per-request variables set by middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    actor: Actor | undefined;
    log: Logger;
  };
}
