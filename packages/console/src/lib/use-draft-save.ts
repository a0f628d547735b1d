import type { UseMutationResult } from '@tanstack/react-query';
import { ApiError } from './api/api-error';
import { changedFields } from './edit-conflict';
import type { DraftConflictProps } from '../components/conflict/draft-conflict';
import { useVersionedDraft, type VersionedDraft } from './use-versioned-draft';

/** What {@link useDraftSave} gives an editor. */
export interface DraftSave<T extends object> {
  /** The draft and the version it was made from. */
  draft: VersionedDraft<T>;
  /** The last save's error when the server answered it (validation errors, a 412). */
  error: ApiError | null;
  /** Saves the person's changes with the draft's version as If-Match. */
  save: () => void;
  /** The draft was saved and has not been changed since (the "Saved." note). */
  saved: boolean;
  /** The props `DraftConflict` takes from the save (spread them into it). */
  conflictProps: Omit<DraftConflictProps<T>, 'what' | 'labels'>;
}

/**
 * The save step every editor over a live resource shares: a {@link useVersionedDraft} held while
 * a save is in flight or a `412` is on screen; a save PATCHes only the changed fields with the
 * draft's version as If-Match and restarts the draft from what the server stored.
 *
 * @example
 * ```tsx
 * const s = useDraftSave(draftOf(flag), flag.attributes.version, useUpdateFlag(), {
 *   request: (body, version) => ({ key: flag.attributes.key, body, version }),
 *   stored: (f) => [draftOf(f), f.attributes.version],
 * });
 * <DraftConflict what="flag" labels={LABELS} {...s.conflictProps} />
 * ```
 */
export function useDraftSave<T extends object, R, V>(
  latest: T,
  version: number | undefined,
  mutation: UseMutationResult<R, Error, V>,
  how: {
    /** The mutation's variables for a PATCH of `body` sent with `ifMatch`. */
    request: (body: Partial<T>, ifMatch: number | undefined) => V;
    /** The fields and version of what the server stored. */
    stored: (saved: R) => [T, number | undefined];
  },
): DraftSave<T> {
  const error = mutation.error instanceof ApiError ? mutation.error : null;
  const conflict = error?.status === 412;
  const draft = useVersionedDraft(latest, version, mutation.isPending || conflict);
  const saveFrom = (from: T, next: T, ifMatch: number | undefined) =>
    mutation.mutate(how.request(Object.fromEntries(changedFields(from, next).map((k) => [k, next[k]])) as Partial<T>, ifMatch), {
      onSuccess: (saved) => draft.restart(...how.stored(saved)),
    });
  return {
    draft,
    error,
    save: () => saveFrom(draft.base.draft, draft.draft, draft.base.version),
    saved: mutation.isSuccess && !draft.dirty,
    conflictProps: { conflict, pending: mutation.isPending, reset: () => mutation.reset(), latest, version, draft, save: saveFrom },
  };
}
