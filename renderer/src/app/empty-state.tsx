/** The first screen: no account yet. Explains what Whereabouts does and offers the one next step. */
import { Logo } from './logo';

export function EmptyState({ onAddAccount }: { onAddAccount(): void }) {
  return (
    <main className="empty-state" aria-labelledby="empty-state-title">
      <div className="empty-state__content">
        <Logo size={96} />
        <h1 id="empty-state-title">Welcome to Whereabouts</h1>
        <p className="empty-state__lead">
          Whereabouts keeps your mail where you choose. For each account, pick POP3 to download mail to this computer,
          or IMAP to keep it on the server and in sync everywhere — and switch any time without losing a message. Every
          message always shows where it lives: on the server, on this computer, or both.
        </p>
        <ul className="residency-legend" aria-label="Where a message can live">
          <li>
            <span className="residency-dot residency-dot--server" aria-hidden="true" />
            On the server
          </li>
          <li>
            <span className="residency-dot residency-dot--local" aria-hidden="true" />
            On this computer
          </li>
          <li>
            <span className="residency-dot residency-dot--both" aria-hidden="true" />
            Both
          </li>
        </ul>
        <button type="button" className="button button--primary button--large" onClick={onAddAccount}>
          Add an account
        </button>
      </div>
    </main>
  );
}
