import { randomUUID } from 'node:crypto';
import { newApiKeySecret } from '../../auth/api-key-secret';
import { generatePassword, hashPassword } from '../../auth/password';
import type { ApiKeyRow, Store, UserRow } from '../../store/types';
import { commitMutation, systemOrigin, type ServerContext } from '../context';

/** What a first start created; secrets appear here once and are never stored in clear. */
export interface FirstStartCredentials {
  adminEmail: string;
  /** Only when generated (not given in SWITCHYARD_ADMIN_PASSWORD). */
  adminPassword: string | null;
  serverKey: string;
  clientKey: string;
  /** The environment both keys belong to (the default environment). */
  environment: string;
}

/**
 * On a store with no users: creates the ADMIN (password from the environment or generated) and
 * one server and one client SDK key, all audited as the system. Returns the secrets to print
 * once; `null` when the store already had users.
 */
export async function firstStart(ctx: ServerContext): Promise<FirstStartCredentials | null> {
  if ((await ctx.store.countUsers()) > 0) return null;
  const environment = ctx.options.defaultEnvironment;
  const now = new Date(ctx.now()).toISOString();
  const password = ctx.options.adminPassword ?? generatePassword();
  const admin: UserRow = {
    seq: 0,
    id: randomUUID(),
    email: ctx.options.adminEmail,
    name: 'Administrator',
    role: 'ADMIN',
    passwordHash: await hashPassword(password),
    source: 'local',
    tokenVersion: 0,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  await commitMutation(ctx, systemOrigin(ctx.options.defaultEnvironment), {
    writes: [{ table: 'users', action: 'insert', row: admin }],
    audit: {
      action: 'user.create',
      resourceType: 'user',
      resourceId: admin.id,
      resourceKey: admin.email,
      before: null,
      after: { email: admin.email, role: 'ADMIN' },
    },
  });
  const keys: Record<'server' | 'client', string> = { server: '', client: '' };
  for (const kind of ['server', 'client'] as const) {
    const { secret, hash, prefix } = newApiKeySecret(kind);
    const row: ApiKeyRow = {
      seq: 0,
      id: randomUUID(),
      name: `Default ${kind} key`,
      kind,
      role: null,
      environment,
      prefix,
      hash,
      createdBy: admin.id,
      version: 1,
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    };
    await commitMutation(ctx, systemOrigin(ctx.options.defaultEnvironment), {
      writes: [{ table: 'api_keys', action: 'insert', row }],
      audit: {
        action: 'api-key.create',
        resourceType: 'api-key',
        resourceId: row.id,
        resourceKey: row.name,
        environment,
        before: null,
        after: { name: row.name, kind, environment, prefix },
      },
    });
    keys[kind] = secret;
  }
  return {
    adminEmail: admin.email,
    adminPassword: ctx.options.adminPassword === undefined ? password : null,
    serverKey: keys.server,
    clientKey: keys.client,
    environment,
  };
}

/** The lines printed once on first start. */
export function describeCredentials(c: FirstStartCredentials): string {
  return [
    '',
    'Switchyard first start — these secrets are shown once and stored only as hashes:',
    `  admin login     ${c.adminEmail}${c.adminPassword === null ? ' (password from SWITCHYARD_ADMIN_PASSWORD)' : ` / ${c.adminPassword}`}`,
    `  server SDK key  ${c.serverKey}  (environment: ${c.environment})`,
    `  client SDK key  ${c.clientKey}  (environment: ${c.environment})`,
    '',
  ].join('\n');
}

/**
 * Creates the configured default environment when the store does not have it (a store starts
 * with `development` and `production`; a server told to default to `staging` creates it).
 */
export async function ensureEnvironment(store: Store, key: string, now: number): Promise<void> {
  if ((await store.getResource('environment', key)) !== null) return;
  const at = new Date(now).toISOString();
  const data = { key, name: key, protected: false };
  try {
    await store.commit({
      writes: [
        {
          table: 'resources',
          action: 'insert',
          row: {
            seq: 0,
            id: randomUUID(),
            kind: 'environment',
            environment: null,
            key,
            ownerId: null,
            status: null,
            data,
            version: 1,
            createdAt: at,
            updatedAt: at,
          },
        },
      ],
      audit: {
        at,
        actorType: 'system',
        actorId: null,
        actorLabel: 'system',
        action: 'environment.create',
        resourceType: 'environment',
        resourceId: null,
        resourceKey: key,
        environment: key,
        before: null,
        after: data,
        requestId: null,
        ip: null,
        userAgent: null,
      },
    });
  } catch (err) {
    // Another instance starting at the same time created it.
    if ((await store.getResource('environment', key)) === null) throw err;
  }
}
