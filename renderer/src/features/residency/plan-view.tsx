/**
 * A what-if plan (planChange) in words: what would be downloaded, uploaded, later deleted on the
 * server by policy, or become unreachable, with counts and bytes, each list expandable.
 */
import type { ChangePlan, PlanEntry } from '../../../../shared/api';
import type { ByteCount } from '../../../../shared/model';
import { formatBytes, formatCount, plural } from '../../components/format';
import { Icon, type IconName } from '../../components/icons';
import { ResidencySummary } from './residency-bar';

const SHOWN_ENTRIES = 200;

function PlanGroup({
  icon,
  title,
  explanation,
  entries,
  totals,
}: {
  icon: IconName;
  title: string;
  explanation: string;
  entries: PlanEntry[];
  totals: ByteCount;
}) {
  if (totals.count === 0) return null;
  return (
    <details className="plan-group">
      <summary>
        <Icon name={icon} />
        <span className="plan-group__title">{title}</span>
        <span className="plan-group__figures">
          {plural(totals.count, 'message', 'messages')} · {formatBytes(totals.bytes)}
        </span>
      </summary>
      <p className="muted">{explanation}</p>
      <table className="plan-table">
        <thead>
          <tr>
            <th scope="col">Subject</th>
            <th scope="col">Folder</th>
            <th scope="col" className="numeric">
              Size
            </th>
          </tr>
        </thead>
        <tbody>
          {entries.slice(0, SHOWN_ENTRIES).map((entry) => (
            <tr key={entry.messageId}>
              <td>{entry.subject || '(no subject)'}</td>
              <td>{entry.folder}</td>
              <td className="numeric">{formatBytes(entry.bytes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {entries.length > SHOWN_ENTRIES && (
        <p className="muted">and {formatCount(entries.length - SHOWN_ENTRIES)} more.</p>
      )}
    </details>
  );
}

type PlanPart = 'download' | 'upload' | 'deleteOnServer' | 'unreachable';

const PLAN_GROUPS: ReadonlyArray<{ part: PlanPart; icon: IconName; title: string; explanation: string }> = [
  {
    part: 'download',
    icon: 'download',
    title: 'Downloaded to this computer',
    explanation: 'Copied from the server to this computer. The server keeps its copy.',
  },
  {
    part: 'upload',
    icon: 'upload',
    title: 'Uploaded to the server',
    explanation: 'Mail that is only on this computer, copied to the server so every device sees it.',
  },
  {
    part: 'deleteOnServer',
    icon: 'trash',
    title: 'Later deleted from the server by your leave-a-copy setting',
    explanation:
      'Never by the switch itself: only when the policy you chose says so, and only after the message is safely stored here.',
  },
  {
    part: 'unreachable',
    icon: 'warning',
    title: 'Not reachable in the new mode',
    explanation:
      'POP3 reaches only the server’s inbox. These stay on the server, untouched, and come back if you switch again.',
  },
];

export function PlanView({ plan }: { plan: ChangePlan }) {
  const nothing = PLAN_GROUPS.every(({ part }) => plan.totals[part].count === 0);
  return (
    <div className="plan" aria-live="polite">
      {nothing ? (
        <p className="callout callout--info">
          <Icon name="check" /> Nothing needs to move: every message stays where it is.
        </p>
      ) : (
        PLAN_GROUPS.map(({ part, ...group }) => (
          <PlanGroup key={part} {...group} entries={plan[part]} totals={plan.totals[part]} />
        ))
      )}
      {plan.skippedDuplicates > 0 && (
        <p className="muted">
          {plural(plan.skippedDuplicates, 'message is', 'messages are')} already in both places and will not be copied
          again.
        </p>
      )}
      <ResidencySummary totals={plan.after} label="Where your mail will be afterwards" showLabel />
    </div>
  );
}
