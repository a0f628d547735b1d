/** One line of a diff: kept, removed (only before) or added (only after). */
export interface DiffLine {
  kind: 'same' | 'removed' | 'added';
  text: string;
}

const pretty = (v: unknown) => (v === undefined ? [] : JSON.stringify(v, null, 2).split('\n'));

/**
 * A line diff of two JSON values (longest common subsequence over pretty-printed lines).
 * Quadratic in lines, which is fine for one flag's state.
 */
export function diffJson(before: unknown, after: unknown): DiffLine[] {
  const a = pretty(before);
  const b = pretty(after);
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ kind: 'removed', text: a[i++]! });
    else out.push({ kind: 'added', text: b[j++]! });
  }
  while (i < n) out.push({ kind: 'removed', text: a[i++]! });
  while (j < m) out.push({ kind: 'added', text: b[j++]! });
  return out;
}

/**
 * Shows what changes between two JSON values, removed lines marked `-` and added `+`.
 *
 * @example
 * ```tsx
 * <JsonDiff before={staging} after={production} label="Changes to production" />
 * ```
 */
export function JsonDiff({ before, after, label }: { before: unknown; after: unknown; label: string }) {
  const lines = diffJson(before, after);
  const changed = lines.some((l) => l.kind !== 'same');
  return (
    <figure className="diff">
      <figcaption>{label}</figcaption>
      {!changed && <p className="muted">No differences.</p>}
      {changed && (
        <pre tabIndex={0} aria-label={label}>
          {lines.map((l, i) => (
            <span key={i} className={`diff-${l.kind}`}>
              {l.kind === 'removed' ? '- ' : l.kind === 'added' ? '+ ' : '  '}
              {l.text}
              {'\n'}
            </span>
          ))}
        </pre>
      )}
    </figure>
  );
}
