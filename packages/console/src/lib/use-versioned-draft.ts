import { useState } from 'react';
import { changedFields, conflictRows, rebaseDraft, type ConflictRow } from './edit-conflict';

/** A draft of some fields of a stored resource and the version it was made from. */
export interface VersionedDraft<T extends object> {
  /** What the form shows and edits. */
  draft: T;
  setDraft: (next: T) => void;
  /** The fields and version the draft was made from: a save sends this version as If-Match. */
  base: { draft: T; version: number | undefined };
  /** The person changed something since `base`. */
  dirty: boolean;
  /** The draft has unsaved changes and the server has a newer version than the draft's base. */
  changedUnderneath: boolean;
  /** Starts a fresh draft from `fields` at `version` (after a save, a discard or a reapply). */
  restart: (fields: T, version: number | undefined) => void;
  /** The person's changes on top of the latest fields: what "reapply" saves. */
  rebased: () => T;
  /** Each field either side changed since `base`, the server's value beside the person's. */
  conflicts: () => ConflictRow<keyof T>[];
}

/**
 * The edit state of a form over a live resource. The screen refetches the resource while it is
 * open (focus, interval); a clean draft follows those refetches, but a draft with changes keeps
 * the version it was made from until the person saves, reapplies or discards. Adopting the newer
 * version would make the save's If-Match current and silently overwrite what someone else saved
 * meanwhile, which is the one thing If-Match exists to prevent.
 *
 * `hold` pauses following (a save in flight, a conflict on screen).
 *
 * @example
 * ```tsx
 * const d = useVersionedDraft(draftOf(flag), flag.attributes.version, update.isPending);
 * save(changedFields(d.base.draft, d.draft), d.base.version); // If-Match: the draft's version
 * ```
 */
export function useVersionedDraft<T extends object>(latest: T, version: number | undefined, hold: boolean): VersionedDraft<T> {
  const [draft, setDraft] = useState<T>(latest);
  const [base, setBase] = useState(() => ({ draft: latest, version }));
  const dirty = changedFields(base.draft, draft).length > 0;
  if (!dirty && !hold && base.version !== version) {
    // Adjusting state while rendering (not in an effect) so a stale draft is never painted.
    setDraft(latest);
    setBase({ draft: latest, version });
  }
  return {
    draft,
    setDraft,
    base,
    dirty,
    changedUnderneath: dirty && base.version !== version,
    restart(fields, v) {
      setDraft(fields);
      setBase({ draft: fields, version: v });
    },
    rebased: () => rebaseDraft(base.draft, draft, latest),
    conflicts: () => conflictRows(base.draft, draft, latest),
  };
}
