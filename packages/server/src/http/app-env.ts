import type { Logger } from 'pino';
import type { Actor } from '../auth/actor';

/** Per-request variables set by middleware. */
export interface AppEnv {
  Variables: {
    requestId: string;
    /** The client's address (see `trustProxy`), set once per request. */
    clientIp: string | null;
    actor: Actor | undefined;
    log: Logger;
  };
}
