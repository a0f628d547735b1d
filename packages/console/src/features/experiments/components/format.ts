/** `0.1234` -> `+12.3%`. */
export const pct = (x: number | null | undefined, signed = true): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `${signed && x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** A number with up to 4 significant decimals. */
export const num = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4);
