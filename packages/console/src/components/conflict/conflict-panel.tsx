import { Button } from '../ui/button';

/** One changed field as the conflict panel shows it. */
export interface ConflictField {
  label: string;
  theirs: unknown;
  yours: unknown;
  /** Both people changed it: reapplying replaces theirs with yours. */
  both: boolean;
}

const show = (v: unknown) => (v === undefined ? '(not set)' : JSON.stringify(v, null, 2));

/**
 * Shown when a save is answered with `412 PRECONDITION_FAILED`: someone changed the resource
 * after this screen loaded it. Lists each field either side changed, the server's value now
 * beside the person's, and lets them reapply their changes on top of the latest version (fields
 * only the other person changed keep the other person's value) or discard theirs.
 */
export function ConflictPanel({
  what,
  fields,
  onReapply,
  onDiscard,
  pending,
}: {
  what: string;
  fields: ConflictField[];
  onReapply: () => void;
  onDiscard: () => void;
  pending: boolean;
}) {
  return (
    <div className="banner banner-warn conflict" role="alert" aria-labelledby="conflict-title">
      <strong id="conflict-title">Someone else changed this {what} while you were editing. Nothing of yours was saved.</strong>
      <table className="conflict-table">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Now on the server</th>
            <th scope="col">Yours</th>
          </tr>
        </thead>
        <tbody>
          {fields.map((f) => (
            <tr key={f.label} data-field={f.label}>
              <th scope="row">
                {f.label}
                {f.both ? ' (changed by both)' : ''}
              </th>
              <td>
                <pre className="conflict-theirs">{show(f.theirs)}</pre>
              </td>
              <td>
                <pre className="conflict-yours">{show(f.yours)}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="actions">
        <Button onClick={onDiscard} disabled={pending}>
          Discard mine, keep the server&apos;s
        </Button>
        <Button variant="primary" onClick={onReapply} disabled={pending}>
          Reapply my changes on the latest version
        </Button>
      </div>
    </div>
  );
}
