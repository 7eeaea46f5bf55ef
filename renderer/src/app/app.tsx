/**
 * The top of the UI: the connection banner, then the first-run screen, account setup, or the mail
 * window, chosen from the accounts the service reports (and re-read whenever it reconnects).
 */
import { useCallback, useEffect, useState } from 'react';
import type { ErrorPayload } from '../../../shared/errors';
import { toErrorPayload } from '../../../shared/errors';
import type { AccountView } from '../../../shared/model';
import { useConnectionStatus, useMailClient } from '../api/service-context';
import { ToastProvider } from '../components/toast';
import { AccountSetup } from '../features/accounts/account-setup';
import { AppShell } from './app-shell';
import { ConnectionBanner } from './connection-banner';
import { EmptyState } from './empty-state';

function useAccounts(connected: boolean): {
  accounts: AccountView[] | null;
  error: ErrorPayload | null;
  reload(): void;
} {
  const client = useMailClient();
  const [accounts, setAccounts] = useState<AccountView[] | null>(null);
  const [error, setError] = useState<ErrorPayload | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => client.on('accountsChanged', (payload) => setAccounts(payload.accounts)), [client]);

  useEffect(() => {
    if (!connected) return;
    let current = true;
    const load = async (): Promise<void> => {
      try {
        const list = await client.api.listAccounts();
        if (!current) return;
        setAccounts(list);
        setError(null);
      } catch (caught) {
        if (current) setError(toErrorPayload(caught));
      }
    };
    void load();
    return () => {
      current = false;
    };
  }, [client, connected, version]);

  const reload = useCallback(() => setVersion((value) => value + 1), []);
  return { accounts, error, reload };
}

export function App() {
  const { status, retryNow } = useConnectionStatus();
  const { accounts, error, reload } = useAccounts(status.state === 'connected');
  const [addingAccount, setAddingAccount] = useState(false);

  let content;
  if (addingAccount) {
    content = (
      <AccountSetup
        onDone={() => {
          setAddingAccount(false);
          reload();
        }}
        onCancel={() => setAddingAccount(false)}
      />
    );
  } else if (accounts === null) {
    content = (
      <main className="empty-state" aria-busy={error === null}>
        {error !== null && (
          <p className="empty-state__error" role="alert">
            Your accounts could not be read: {error.message}
          </p>
        )}
      </main>
    );
  } else if (accounts.length === 0) {
    content = <EmptyState onAddAccount={() => setAddingAccount(true)} />;
  } else {
    content = <AppShell accounts={accounts} onAddAccount={() => setAddingAccount(true)} />;
  }

  return (
    <ToastProvider>
      <div className="app">
        <ConnectionBanner status={status} onRetry={retryNow} />
        {content}
      </div>
    </ToastProvider>
  );
}
