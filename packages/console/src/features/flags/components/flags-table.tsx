import { useRef } from 'react';
import { Link } from 'react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { Environment } from '../../../lib/environment';
import type { Flag } from '../api/flags';
import { FlagToggle } from './flag-toggle';

const ROW_HEIGHT = 52;
const STALE_DAYS = 30;

function staleDays(flag: Flag, now: number): number | null {
  const at = Date.parse(flag.attributes.updated_at ?? '');
  if (!Number.isFinite(at)) return null;
  const days = Math.floor((now - at) / 86_400_000);
  return days >= STALE_DAYS ? days : null;
}

/**
 * The flags list. Only the rows in view are in the DOM (TanStack Virtual), so 10,000 flags
 * scroll and filter as fast as 10. It is an ARIA table with the full row count, so assistive
 * technology knows how many rows there are.
 */
export function FlagsTable({ flags, environments, requestEnv }: { flags: Flag[]; environments: Environment[]; requestEnv: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: flags.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
  });
  // Read once per render: a rough "unchanged for N days" hint needs no ticking clock.
  const now = Date.now();
  const columns = `minmax(220px, 2fr) 90px minmax(120px, 1fr) repeat(${environments.length}, minmax(120px, 1fr))`;
  return (
    <div
      className="flags-table"
      role="table"
      aria-label="Feature flags"
      aria-rowcount={flags.length + 1}
      // Styles set through the CSSOM, not style attributes: the CSP allows no inline styles.
      ref={(el) => el?.style.setProperty('--flag-columns', columns)}
    >
      <div role="rowgroup">
        <div role="row" aria-rowindex={1} className="flags-row flags-head" data-columns={environments.length}>
          <span role="columnheader">Flag</span>
          <span role="columnheader">Type</span>
          <span role="columnheader">Tags</span>
          {environments.map((e) => (
            <span role="columnheader" key={e.key}>
              {e.name}
            </span>
          ))}
        </div>
      </div>
      <div ref={scroller} className="flags-scroll" role="rowgroup" tabIndex={0} aria-label="Flag rows">
        <div className="flags-spacer" ref={(el) => el?.style.setProperty('height', `${virtual.getTotalSize()}px`)}>
          {virtual.getVirtualItems().map((item) => {
            const flag = flags[item.index]!;
            const a = flag.attributes;
            const stale = staleDays(flag, now);
            return (
              <div
                key={flag.id}
                role="row"
                aria-rowindex={item.index + 2}
                className="flags-row"
                data-flag={a.key}
                ref={(el) => el?.style.setProperty('transform', `translateY(${item.start}px)`)}
              >
                <span role="cell" className="flag-name">
                  <Link to={`/flags/${encodeURIComponent(a.key)}`}>{a.key}</Link>
                  {a.name && a.name !== a.key && <span className="muted"> {a.name}</span>}
                  {stale !== null && (
                    <span className="badge badge-warn" title="No change recorded for a long time: a candidate for clean-up">
                      unchanged {stale} d
                    </span>
                  )}
                </span>
                <span role="cell">{a.type}</span>
                <span role="cell">
                  {(a.tags ?? []).map((t) => (
                    <span key={t} className="badge">
                      {t}
                    </span>
                  ))}
                </span>
                {environments.map((e) => (
                  <span role="cell" key={e.key}>
                    <FlagToggle flag={flag} env={e} requestEnv={requestEnv} />
                  </span>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
