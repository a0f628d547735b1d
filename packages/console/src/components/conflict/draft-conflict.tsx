import type { VersionedDraft } from '../../lib/use-versioned-draft';
import { ConflictPanel } from './conflict-panel';

/** What {@link DraftConflict} takes. */
export interface DraftConflictProps<T extends object> {
  what: string;
  draft: VersionedDraft<T>;
  /** The fields as the server has them now. */
  latest: T;
  version: number | undefined;
  labels: Record<keyof T, string>;
  /** The last save was answered 412. */
  conflict: boolean;
  pending: boolean;
  /** Clears the failed save. */
  reset: () => void;
  /** Saves the fields of `next` that differ from `from`, with `ifMatch` as If-Match. */
  save: (from: T, next: T, ifMatch: number | undefined) => void;
}

/**
 * What an editor over a live resource shows above its form: after a `412`, the conflict panel
 * (reapply the person's changes on the latest version, or discard them); before a save, a note
 * when the server has a newer version than the draft was made from.
 *
 * @example
 * ```tsx
 * <DraftConflict what="flag" draft={d} latest={latest} version={version} labels={LABELS}
 *   conflict={err?.status === 412} pending={update.isPending} reset={() => update.reset()} save={saveFrom} />
 * ```
 */
export function DraftConflict<T extends object>({
  what,
  draft,
  latest,
  version,
  labels,
  conflict,
  pending,
  reset,
  save,
}: DraftConflictProps<T>) {
  if (conflict)
    return (
      <ConflictPanel
        what={what}
        // The refetch after a 412 has arrived once the screen shows a newer version than the draft's.
        pending={pending || draft.base.version === version}
        fields={draft.conflicts().map((r) => ({ ...r, label: labels[r.field] }))}
        onDiscard={() => {
          reset();
          draft.restart(latest, version);
        }}
        onReapply={() => {
          // Only what this person changed goes on top of the latest version.
          const next = draft.rebased();
          draft.restart(latest, version);
          draft.setDraft(next);
          save(latest, next, version);
        }}
      />
    );
  if (!draft.changedUnderneath) return null;
  return (
    <p className="banner banner-warn" role="status">
      This {what} changed since you started editing. Saving shows both versions so you can choose.
    </p>
  );
}
