/** The outbox: every message handed to sendMessage and how it is going, updated on outboxChanged. */
import type { OutboxItem, OutboxState } from '../../../../shared/api';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { useMailEvent } from '../../api/use-mail-event';
import { useQuery } from '../../api/use-query';
import { formatRelative } from '../../components/format';
import { Icon, type IconName } from '../../components/icons';

export const OUTBOX_STATES: Record<OutboxState, { label: string; explanation: string; icon: IconName }> = {
  queued: {
    label: 'Queued',
    explanation: 'Waiting to be sent; it goes as soon as the server can be reached.',
    icon: 'outbox',
  },
  sending: { label: 'Sending', explanation: 'Being handed to the outgoing server now.', icon: 'upload' },
  sent: { label: 'Sent', explanation: 'The outgoing server accepted it.', icon: 'check' },
  failed: { label: 'Failed', explanation: 'The server refused it; it will not be retried.', icon: 'warning' },
  'delivery-unknown': {
    label: 'Delivery unknown',
    explanation:
      'The connection broke while sending: it may or may not have gone out. Check with the recipient before resending.',
    icon: 'warning',
  },
};

export function OutboxView({ accountName }: { accountName(accountId: string): string }) {
  const api = useMailApi();
  const outbox = useQuery('outbox', () => api.listOutbox({ accountId: null }));
  useMailEvent('outboxChanged', () => outbox.reload());
  const items: OutboxItem[] = [...(outbox.data ?? [])].sort((left, right) =>
    right.createdAt.localeCompare(left.createdAt),
  );
  return (
    <main className="pane pane--wide" aria-labelledby="outbox-title">
      <header className="page-header">
        <h1 id="outbox-title">Outbox</h1>
        <p className="muted">Messages you sent from this computer, and where each one is on its way.</p>
      </header>
      {outbox.error !== null && (
        <p className="callout callout--error" role="alert">
          The outbox could not be read. {describeError(outbox.error).title}
        </p>
      )}
      {outbox.data !== null && items.length === 0 && (
        <div className="list-empty">
          <Icon name="outbox" size={32} />
          <p>Nothing has been sent from here yet.</p>
        </div>
      )}
      <ul className="outbox" aria-label="Outgoing messages">
        {items.map((item) => {
          const state = OUTBOX_STATES[item.state];
          return (
            <li key={item.id} className={`outbox-item outbox-item--${item.state}`}>
              <span className="outbox-item__icon">
                <Icon name={state.icon} />
              </span>
              <div className="outbox-item__body">
                <p className="outbox-item__subject">{item.subject || '(no subject)'}</p>
                <p className="muted">
                  To {item.to.join(', ')} · from {accountName(item.accountId)} · {formatRelative(item.createdAt)}
                </p>
                {item.lastError && <p className="outbox-item__error">{item.lastError}</p>}
                {(item.state === 'failed' || item.state === 'delivery-unknown') && (
                  <p className="muted">{state.explanation}</p>
                )}
              </div>
              <span className={`state-chip state-chip--${item.state}`} title={state.explanation}>
                {state.label}
                <span className="visually-hidden">: {state.explanation}</span>
              </span>
            </li>
          );
        })}
      </ul>
    </main>
  );
}
