import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Actor } from '../auth/actor';

/** Per-request variables set by middleware; on Node, @hono/node-server's request objects. */
export interface AppEnv {
  Bindings: { incoming?: IncomingMessage };
  Variables: {
    requestId: string;
    /** The client's address (see `trustProxy`), set once per request. */
    clientIp: string | null;
    actor: Actor | undefined;
    /** The environment the request acts in: its key's, else `?environment=`, else the default. */
    environment: string;
    log: Logger;
    /** The body-limit middleware judged the body by its Content-Length and nothing has read it yet. */
    bodyUnread: boolean;
  };
}
