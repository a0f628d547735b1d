export { startServer, type RunningServer, type StartOptions } from './server';
export { createApp } from './app';
export { resolveOptions, type ServerOptions } from './options';
export { openSqliteStore } from './store/sqlite/sqlite-store';
export { openPostgresStore } from './store/postgres/postgres-store';
export type { Store, UnitOfWork, ResourceRow, UserRow, ApiKeyRow, AuditRecord, StoredEvent, Role } from './store/types';
export { ApiError, ERROR_STATUS, type ErrorCode } from './errors';
export { can, type Action, type Subject } from './auth/permissions';
