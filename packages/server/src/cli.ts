#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startServer } from './server';

const USAGE = `Usage: switchyard serve [--port 8787] [--host 127.0.0.1] [--db .switchyard/switchyard.db] [--demo]

Environment: SWITCHYARD_PORT, SWITCHYARD_HOST, SWITCHYARD_DB, SWITCHYARD_DEMO, SWITCHYARD_ADMIN_EMAIL,
SWITCHYARD_ADMIN_PASSWORD, SWITCHYARD_JWT_SECRET, SWITCHYARD_CORS_ORIGINS, SWITCHYARD_LOG_LEVEL,
SWITCHYARD_EVENT_RETENTION_DAYS, SWITCHYARD_JWKS_URL, SWITCHYARD_OIDC_ISSUER, SWITCHYARD_OIDC_AUDIENCE,
SWITCHYARD_OIDC_ROLE_CLAIM, SWITCHYARD_OIDC_ROLE_MAP, SWITCHYARD_DATABASE_URL (postgres://..., for several
instances), SWITCHYARD_REDIS_URL (config fan-out and shared rate limits), SWITCHYARD_TRUST_PROXY.
See docs/configuration.md and docs/scaling.md.`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      db: { type: 'string' },
      demo: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals[0] !== 'serve') {
    process.stdout.write(USAGE + '\n');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const server = await startServer({
    ...(values.port !== undefined ? { port: Number(values.port) } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values.db !== undefined ? { dbPath: values.db } : {}),
    ...(values.demo ? { demo: true } : {}),
  });
  process.stdout.write(`Switchyard is listening on ${server.url} (API docs: ${server.url}/docs)\n`);
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
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`switchyard: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
