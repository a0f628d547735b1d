import type { ResultsPayload } from './results';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/**
 * A forest plot of each treatment's relative lift with its confidence interval, one panel per
 * metric: people look at results rather than read them. Self-contained SVG, no fonts fetched.
 */
export function forestPlotSvg(p: ResultsPayload): string {
  const rows: { label: string; metric: string; lift: number | null; ci: [number, number] | null; significant: boolean; note: string }[] =
    [];
  for (const [key, m] of Object.entries(p.analysis.metrics)) {
    for (const c of m.comparisons) {
      const ci = c.relative.ci;
      rows.push({
        metric: key,
        label: c.variant,
        lift: c.relativeLift,
        ci: ci ?? null,
        significant: c.relative.pValue !== null && c.relative.pValue < p.analysis.alpha,
        note: c.error ?? (c.relative.pValue === null ? '' : c.relative.pValue < 0.001 ? 'p<0.001' : `p=${c.relative.pValue.toFixed(3)}`),
      });
    }
  }
  let span = 0.05;
  for (const r of rows) for (const v of [r.lift, ...(r.ci ?? [])]) if (v !== null && Number.isFinite(v)) span = Math.max(span, Math.abs(v));
  span = Math.min(span * 1.15, 10);
  const width = 760;
  const left = 220;
  const right = 140;
  const plotW = width - left - right;
  const rowH = 34;
  const top = 64;
  const height = top + rows.length * rowH + 50;
  const x = (v: number) => left + ((Math.max(-span, Math.min(span, v)) + span) / (2 * span)) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="16" font-weight="600" fill="#1f2328">${esc(p.experiment.key)}: relative lift vs control (${Math.round((1 - p.analysis.alpha) * 100)}% CI)</text>`,
    `<text x="16" y="46" fill="${p.analysis.srm.mismatch ? '#cf222e' : '#57606a'}">${p.analysis.srm.mismatch ? 'Sample ratio mismatch: do not trust these results' : `units: ${p.variants.map((v) => `${esc(v.key)} ${v.units}`).join(', ')}`}</text>`,
    `<line x1="${x(0)}" y1="${top - 8}" x2="${x(0)}" y2="${top + rows.length * rowH}" stroke="#8c959f" stroke-dasharray="4 3"/>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    parts.push(`<text x="16" y="${y + 4}" fill="#1f2328">${esc(r.metric)} · ${esc(r.label)}</text>`);
    if (r.lift === null || r.ci === null) {
      parts.push(`<text x="${left}" y="${y + 4}" fill="#57606a">${esc(r.note || 'not enough data')}</text>`);
      return;
    }
    const color = !r.significant ? '#57606a' : r.lift > 0 ? '#1a7f37' : '#cf222e';
    parts.push(`<line x1="${x(r.ci[0])}" y1="${y}" x2="${x(r.ci[1])}" y2="${y}" stroke="${color}" stroke-width="2.5"/>`);
    parts.push(`<circle cx="${x(r.lift)}" cy="${y}" r="5" fill="${color}"/>`);
    parts.push(`<text x="${width - right + 10}" y="${y + 4}" fill="${color}">${pct(r.lift)} ${esc(r.note)}</text>`);
  });
  const axisY = top + rows.length * rowH + 18;
  for (const t of [-span, -span / 2, 0, span / 2, span])
    parts.push(`<text x="${x(t)}" y="${axisY}" text-anchor="middle" fill="#57606a">${pct(t)}</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
