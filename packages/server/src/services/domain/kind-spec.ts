import type { ConfigPatch } from '@switchyard/core';
import type { z } from 'zod';
import type { Subject } from '../../auth/permissions';
import { resource, type ResourceObject } from '../../http/envelope';
import type { ResourceKind, ResourceRow } from '../../store/types';
import { flagAttributes } from './flag-spec';

/** Fields a client may send back from a GET that the server owns; they are ignored on write. */
export const READ_ONLY_FIELDS = ['id', 'created_at', 'updated_at', 'owner_id', 'version'] as const;

/** How one kind of resource is named, defaulted, validated and projected into the config. */
export interface KindSpec {
  kind: ResourceKind;
  /** The API's `type` and the permission subject. */
  type: Subject & ('feature-flag' | 'segment' | 'experiment');
  label: string;
  /** Fills defaults of a complete input (POST, PUT, or a PATCH merged onto the stored fields). */
  normalize(input: Record<string, unknown>): Record<string, unknown>;
  /** The core schema the normalized resource must pass. */
  schema: z.ZodType;
  /** Column the `status` filter matches. */
  statusOf(data: Record<string, unknown>): string | null;
  /** Key of this kind's map in the config document. */
  docField: 'flags' | 'segments' | 'experiments';
}

/** Config patches per environment key. */
export type EnvironmentPatches = Record<string, Omit<ConfigPatch, 'version'>>;

/** The input without the fields the server owns. */
export function stripReadOnly(input: Record<string, unknown>): Record<string, unknown> {
  const out = { ...input };
  for (const f of READ_ONLY_FIELDS) delete out[f];
  return out;
}

/**
 * The API representation of a stored row. A flag's attributes are its definition, the state of
 * `view.environment` flattened at the top level, and every environment's state under
 * `environments`.
 */
export function toResource(
  spec: Pick<KindSpec, 'type'>,
  row: ResourceRow,
  view?: { environment: string; environments: readonly string[] },
): ResourceObject {
  const attributes = row.kind === 'flag' && view !== undefined ? flagAttributes(row.data, view.environment, view.environments) : row.data;
  return resource(
    spec.type,
    row.id,
    { ...attributes, version: row.version, created_at: row.createdAt, updated_at: row.updatedAt },
    row.ownerId,
  );
}
