import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Actor } from '../src/auth/actor';
import { newApiKeySecret } from '../src/auth/api-key-secret';
import type { ServerContext } from '../src/services/context';
import { FlagService } from '../src/services/domain/flags';
import { ResourceService } from '../src/services/domain/resource-service';
import { segmentSpec } from '../src/services/domain/segment-spec';
import type { ApiKeyKind, ApiKeyRow, ResourceRow, Role, UserRow } from '../src/store/types';
import type { Reply, TestServer } from './helpers';

/** Every error code of the contract. */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'AUTHENTICATION_REQUIRED'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_NOT_FOUND'
  | 'CONFLICT'
  | 'INVALID_STATE_TRANSITION'
  | 'RATE_LIMIT_EXCEEDED'
  | 'PAYLOAD_TOO_LARGE'
  | 'INTERNAL_ERROR'
  | 'SERVICE_UNAVAILABLE';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_ERROR: 400,
  AUTHENTICATION_REQUIRED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_NOT_FOUND: 404,
  CONFLICT: 409,
  INVALID_STATE_TRANSITION: 409,
  RATE_LIMIT_EXCEEDED: 429,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

/**
 * Asserts the documented error envelope: status, code, a message, `details`, a `request_id`
 * equal to the `X-Request-ID` header and a `documentation_url` pointing at the code's anchor.
 */
export function expectError(
  r: Reply,
  code: ErrorCode,
): { code: string; message: string; details: any; request_id: string; documentation_url: string } {
  const where = `${r.status} ${JSON.stringify(r.body)}`;
  expect(r.status, where).toBe(STATUS[code]);
  expect(r.body, where).toBeTypeOf('object');
  expect(Object.keys(r.body), where).toEqual(['error']);
  const e = r.body.error;
  expect(Object.keys(e).sort(), where).toEqual(['code', 'details', 'documentation_url', 'message', 'request_id']);
  expect(e.code, where).toBe(code);
  expect(typeof e.message).toBe('string');
  expect(e.message.length).toBeGreaterThan(0);
  const header = r.headers.get('x-request-id');
  expect(header).toBeTruthy();
  expect(e.request_id).toBe(header);
  expect(e.documentation_url).toContain(`errors.md#${code}`);
  expect(r.headers.get('content-type') ?? '').toContain('application/json');
  return e;
}

/** The `path` of every detail of a validation error. */
export function detailPaths(r: Reply): string[] {
  const details = r.body?.error?.details;
  return Array.isArray(details) ? details.map((d: { path?: string }) => d.path ?? '') : [];
}

/** An actor for creating fixtures in process, owned by `ownerId`, bypassing the API (and its RBAC). */
export function fixtureActor(ownerId: string): Actor {
  return { type: 'user', id: ownerId, email: 'fixture@test.local', role: 'ADMIN', label: 'fixture' };
}

const origin = (ownerId: string, environment = 'production') => ({
  actor: fixtureActor(ownerId),
  environment,
  requestId: null,
  ip: null,
  userAgent: 'fixture',
});

/** Creates a flag owned by `ownerId` through the real service (config patch and audit included). */
export async function ownedFlag(ctx: ServerContext, ownerId: string, body: Record<string, unknown>): Promise<ResourceRow> {
  return new FlagService(ctx).create(origin(ownerId), { type: 'boolean', ...body });
}

/** Creates a segment owned by `ownerId`. */
export async function ownedSegment(ctx: ServerContext, ownerId: string, body: Record<string, unknown>): Promise<ResourceRow> {
  return new ResourceService(segmentSpec, ctx).create(origin(ownerId), body);
}

/** Inserts an API key created by `createdBy` directly into the store; returns the row and its secret. */
export async function insertApiKey(
  ctx: ServerContext,
  createdBy: string | null,
  kind: ApiKeyKind,
  role: Role | null = null,
  name = `fixture ${kind} key`,
  environment = 'production',
): Promise<{ row: ApiKeyRow; secret: string }> {
  const { secret, hash, prefix } = newApiKeySecret(kind);
  const row: ApiKeyRow = {
    seq: 0,
    id: randomUUID(),
    name,
    kind,
    role: kind === 'management' ? role : null,
    environment: kind === 'management' ? null : environment,
    prefix,
    hash,
    createdBy,
    version: 1,
    createdAt: new Date().toISOString(),
    lastUsedAt: null,
    revokedAt: null,
  };
  await ctx.store.commit({ writes: [{ table: 'api_keys', action: 'insert', row }] });
  return { row, secret };
}

/** Inserts a user without a password (no scrypt cost) directly into the store. */
export async function insertUser(ctx: ServerContext, role: Role, email = `fixture-${randomUUID()}@test.local`): Promise<UserRow> {
  const now = new Date().toISOString();
  const row: UserRow = {
    seq: 0,
    id: randomUUID(),
    email,
    name: null,
    role,
    passwordHash: null,
    source: 'local',
    tokenVersion: 0,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  await ctx.store.commit({ writes: [{ table: 'users', action: 'insert', row }] });
  return row;
}

/** The id of the user behind a token. */
export async function whoAmI(t: TestServer, token: string): Promise<string> {
  const r = await t.request('GET', '/api/v1/auth/me', { token });
  expect(r.status).toBe(200);
  return r.body.data.id as string;
}

/** Creates an API key through the API and returns the creation response's data. */
export async function createKey(
  t: TestServer,
  auth: { token?: string; apiKey?: string },
  body: Record<string, unknown>,
): Promise<{ id: string; key: string; attributes: Record<string, any>; relationships: any }> {
  const r = await t.request('POST', '/api/v1/api-keys', { ...auth, body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return {
    id: r.body.data.id,
    key: r.body.data.attributes.key,
    attributes: r.body.data.attributes,
    relationships: r.body.data.relationships,
  };
}

/** The live config version from `/ready`. */
export async function configVersion(t: TestServer): Promise<number> {
  const r = await t.request('GET', '/ready');
  expect(r.status).toBe(200);
  return r.body.data.config_version as number;
}

let unique = 0;
/** A key no other test uses. */
export function uniqueKey(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${++unique}`;
}
