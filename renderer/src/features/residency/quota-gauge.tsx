/** The server's storage quota (IMAP QUOTA, RFC 9208): used of limit, with a warning from 90 %. */
import { formatBytes } from '../../components/format';
import { Icon } from '../../components/icons';

export const QUOTA_WARNING_RATIO = 0.9;

export function QuotaGauge({ quota }: { quota: { usage: number; limit: number; warning: boolean } }) {
  const ratio = quota.limit > 0 ? quota.usage / quota.limit : 0;
  const warning = quota.warning || ratio >= QUOTA_WARNING_RATIO;
  const percent = Math.round(ratio * 100);
  return (
    <div className={`quota ${warning ? 'quota--warning' : ''}`}>
      <div className="quota__label">
        <span>Server storage</span>
        <span>
          {formatBytes(quota.usage)} of {formatBytes(quota.limit)} ({percent} %)
        </span>
      </div>
      <meter
        className="quota__meter"
        min={0}
        max={quota.limit}
        value={quota.usage}
        low={quota.limit * 0.75}
        high={quota.limit * QUOTA_WARNING_RATIO}
        optimum={0}
        aria-label={`Server storage used: ${percent} percent`}
      />
      {warning && (
        <p className="quota__warning" role="status">
          <Icon name="warning" size={16} /> The server mailbox is almost full. When it is full, new mail is refused.
          Delete mail, or download it to this computer.
        </p>
      )}
    </div>
  );
}
