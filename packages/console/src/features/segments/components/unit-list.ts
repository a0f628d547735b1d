/**
 * Unit ids typed one per line (commas also separate), trimmed, blanks and repeats dropped, in
 * the order typed.
 *
 * @example
 * ```ts
 * parseUnitList('u1\nu2, u3\n\nu1'); // ['u1', 'u2', 'u3']
 * ```
 */
export function parseUnitList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[\n,]/)
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}
