/**
 * The three panes the mail features fill: accounts and folders, the message list, the reader.
 * Landmarks name each pane so assistive technology can jump between them.
 */
import type { AccountView } from '../../../shared/model';
import { Logo } from './logo';

const MODE_LABELS = { imap: 'IMAP', pop3: 'POP3' } as const;

export function AppShell({ accounts, onAddAccount }: { accounts: AccountView[]; onAddAccount(): void }) {
  return (
    <div className="app-shell">
      <nav className="pane pane--sidebar" aria-label="Accounts and folders">
        <div className="sidebar__brand">
          <Logo size={28} />
          <span>Whereabouts</span>
        </div>
        <ul className="account-list">
          {accounts.map((account) => (
            <li key={account.id} className="account-list__item">
              <span className="account-list__name">{account.name || account.email}</span>
              <span className="mode-badge" title={`This account runs in ${MODE_LABELS[account.mode]} mode`}>
                {MODE_LABELS[account.mode]}
              </span>
            </li>
          ))}
        </ul>
        <button type="button" className="button button--quiet sidebar__add" onClick={onAddAccount}>
          Add an account
        </button>
      </nav>
      <main className="pane pane--messages" aria-label="Messages" tabIndex={-1} id="messages">
        <p className="pane__placeholder">Choose a folder to see its messages.</p>
      </main>
      <section className="pane pane--reader" aria-label="Reader">
        <p className="pane__placeholder">Select a message to read it.</p>
      </section>
    </div>
  );
}
