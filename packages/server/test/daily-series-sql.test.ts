import { describe, expect, it } from 'vitest';
import { DAILY_CONVERTERS_SQL, DAILY_SUMS_SQL, DAILY_UNITS_SQL, readDailySeries } from '../src/store/daily-series-sql';

describe('readDailySeries', () => {
  it('runs the units statement once and, per metric, only the statement its type needs', async () => {
    const ran: { sql: string; values: unknown[] }[] = [];
    const rows = await readDailySeries(
      async (sql, values) => {
        ran.push({ sql, values });
        return [{ variant: 'control', day: '20000', n: sql === DAILY_SUMS_SQL ? '12.5' : '3' }];
      },
      'production',
      'checkout',
      { from: 1, to: 2 },
      [
        { key: 'purchase', type: 'conversion' },
        { key: 'revenue', type: 'mean' },
      ],
    );
    expect(ran).toEqual([
      { sql: DAILY_UNITS_SQL, values: ['production', 'checkout', 1, 2] },
      { sql: DAILY_CONVERTERS_SQL, values: ['production', 'checkout', 1, 2, 'purchase'] },
      { sql: DAILY_SUMS_SQL, values: ['production', 'checkout', 1, 2, 'revenue'] },
    ]);
    expect(rows).toEqual({
      units: [{ variant: 'control', day: 20000, n: 3 }],
      metrics: { purchase: [{ variant: 'control', day: 20000, n: 3 }], revenue: [{ variant: 'control', day: 20000, n: 12.5 }] },
    });
  });
});
