import { Button } from '../../../components/ui/button';
import type { ApiError } from '../../../lib/api/api-error';

/**
 * Shown when the server answers a save with `412 PRECONDITION_FAILED`: someone changed the
 * resource after this screen read it. The screen has refetched the latest version; the person
 * either discards their draft or reapplies it on top of the latest version.
 */
export function ConflictBanner({ error, onDiscard, onReapply }: { error: ApiError; onDiscard: () => void; onReapply: () => void }) {
  return (
    <div className="banner banner-warn" role="alert">
      <strong>Someone else changed this while you were editing.</strong> {error.message}
      <div className="actions">
        <Button onClick={onDiscard}>Discard mine, show theirs</Button>
        <Button variant="primary" onClick={onReapply}>
          Reapply my changes on the latest version
        </Button>
      </div>
    </div>
  );
}
