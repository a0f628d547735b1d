import { intervalOf, type Results } from '../api/experiments';
import { num, pct } from './format';

/** Per metric and variant: units, mean, lift, interval, chance to beat control, sequential status. */
export function ResultsTable({ results, alpha }: { results: Results; alpha: number }) {
  return (
    <table className="table" aria-label="Results by metric">
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">Variant</th>
          <th scope="col" className="num">
            Units
          </th>
          <th scope="col" className="num">
            Mean
          </th>
          <th scope="col" className="num">
            Lift
          </th>
          <th scope="col">Interval</th>
          <th scope="col" className="num">
            Chance to beat control
          </th>
          <th scope="col">Sequential</th>
        </tr>
      </thead>
      <tbody>
        {Object.values(results.metrics).map((m) =>
          m.variants.map((v, i) => {
            const c = m.comparisons.find((x) => x.variant === v.key);
            const seq = c?.sequential;
            const ci = c === undefined ? null : intervalOf(c);
            const decided = seq?.p_value != null && seq.p_value < alpha;
            return (
              <tr key={`${m.key}-${v.key}`} data-metric={m.key} data-variant={v.key}>
                {i === 0 && (
                  <th scope="rowgroup" rowSpan={m.variants.length}>
                    {m.key} <span className="badge">{m.role}</span>
                  </th>
                )}
                <td>{i === 0 ? `${v.key} (control)` : v.key}</td>
                <td className="num">{v.units}</td>
                <td className="num">{num(v.mean)}</td>
                <td className="num">{c ? pct(c.relative_lift) : '—'}</td>
                <td>{ci ? `${pct(ci[0])} to ${pct(ci[1])}` : '—'}</td>
                <td className="num">{c ? pct(c.chance_to_beat_control, false) : '—'}</td>
                <td>
                  {c === undefined
                    ? ''
                    : c.error
                      ? `not yet: ${c.error.toLowerCase().replace(/_/g, ' ')}`
                      : seq?.ci
                        ? decided
                          ? 'significant'
                          : 'keep running'
                        : 'fixed horizon'}
                </td>
              </tr>
            );
          }),
        )}
      </tbody>
    </table>
  );
}
