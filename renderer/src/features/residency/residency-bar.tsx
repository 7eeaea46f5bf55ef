/**
 * Server and this computer side by side: what is only on the server, what is in both places, and
 * what is only here, as three figures and one bar (icons and words, not colour alone).
 */
import type { ResidencyTotals } from '../../../../shared/model';
import { formatBytes, formatCount, plural } from '../../components/format';
import { Icon } from '../../components/icons';

export function ResidencySummary({
  totals,
  label,
  showLabel = false,
}: {
  totals: ResidencyTotals;
  label: string;
  /** Shows the label as the summary's title (the what-if plan), not only to assistive technology. */
  showLabel?: boolean;
}) {
  const onServer = { count: totals.server.count + totals.both.count, bytes: totals.server.bytes + totals.both.bytes };
  const here = { count: totals.local.count + totals.both.count, bytes: totals.local.bytes + totals.both.bytes };
  return (
    <section className="residency-summary" aria-label={label}>
      {showLabel && <h3 className="residency-summary__title">{label}</h3>}
      <div className="residency-summary__sides">
        <div className="residency-side residency-side--server">
          <h3>
            <Icon name="server" /> On the server
          </h3>
          <p className="residency-side__figure">{plural(onServer.count, 'message', 'messages')}</p>
          <p className="muted">{formatBytes(onServer.bytes)}</p>
        </div>
        <div className="residency-side residency-side--computer">
          <h3>
            <Icon name="computer" /> On this computer
          </h3>
          <p className="residency-side__figure">{plural(here.count, 'message', 'messages')}</p>
          <p className="muted">{formatBytes(here.bytes)}</p>
        </div>
      </div>
      <ResidencyBar totals={totals} />
      <dl className="residency-legend-table">
        <div>
          <dt>
            <span className="residency-dot residency-dot--server" aria-hidden="true" /> Only on the server
          </dt>
          <dd>
            {formatCount(totals.server.count)} · {formatBytes(totals.server.bytes)}
          </dd>
        </div>
        <div>
          <dt>
            <span className="residency-dot residency-dot--both" aria-hidden="true" /> In both places
          </dt>
          <dd>
            {formatCount(totals.both.count)} · {formatBytes(totals.both.bytes)}
          </dd>
        </div>
        <div>
          <dt>
            <span className="residency-dot residency-dot--local" aria-hidden="true" /> Only on this computer
          </dt>
          <dd>
            {formatCount(totals.local.count)} · {formatBytes(totals.local.bytes)}
          </dd>
        </div>
      </dl>
    </section>
  );
}

/** Proportions by message count; a sliver stays visible for any non-zero share. */
export function ResidencyBar({ totals }: { totals: ResidencyTotals }) {
  const all = totals.server.count + totals.both.count + totals.local.count;
  const share = (count: number) => (all === 0 || count === 0 ? 0 : Math.max(1.5, (count / all) * 100));
  return (
    <div className="residency-bar" aria-hidden="true">
      {all === 0 ? (
        <span className="residency-bar__empty" />
      ) : (
        <>
          <span
            className="residency-bar__segment residency-bar__segment--server"
            style={{ flexGrow: share(totals.server.count) }}
          />
          <span
            className="residency-bar__segment residency-bar__segment--both"
            style={{ flexGrow: share(totals.both.count) }}
          />
          <span
            className="residency-bar__segment residency-bar__segment--local"
            style={{ flexGrow: share(totals.local.count) }}
          />
        </>
      )}
    </div>
  );
}
