/**
 * "Sign in again" for an account whose provider no longer honours this computer's sign-in
 * (AccountView.signInRequired): a new sign-in in the browser replaces the old tokens, and the
 * service reconnects the account by itself once it has them.
 */
import { useState } from 'react';
import type { AccountView } from '../../../../shared/model';
import { Modal } from '../../components/dialog';
import { Icon } from '../../components/icons';
import { useToasts } from '../../components/toast';
import { SignInFailure, SignInWaiting, useOAuthSignIn } from './oauth-sign-in';

/** The provider's name as people know it ("google" → "Google"). */
export function providerName(provider: string): string {
  const known: Record<string, string> = {
    google: 'Google',
    microsoft: 'Microsoft',
    yahoo: 'Yahoo',
    aol: 'AOL',
    fastmail: 'Fastmail',
  };
  return known[provider] ?? provider.charAt(0).toUpperCase() + provider.slice(1);
}

export function SignInAgainButton({ account, compact = false }: { account: AccountView; compact?: boolean }) {
  const [open, setOpen] = useState(false);
  if (account.auth?.kind !== 'oauth2') return null;
  return (
    <>
      <button
        type="button"
        className={`button button--small ${compact ? '' : 'button--primary'}`}
        onClick={() => setOpen(true)}
      >
        <Icon name="key" size={14} /> Sign in again
      </button>
      {open && <SignInAgainDialog account={account} onClose={() => setOpen(false)} />}
    </>
  );
}

function SignInAgainDialog({ account, onClose }: { account: AccountView; onClose(): void }) {
  const toasts = useToasts();
  const provider = account.auth?.kind === 'oauth2' ? account.auth.provider : '';
  const name = providerName(provider);
  const signIn = useOAuthSignIn((result) => {
    if (!result.ok) return;
    toasts.show({ kind: 'success', title: `Signed in to ${name} again. “${account.name}” reconnects now.` });
    onClose();
  });
  const { state } = signIn;
  const busy = state.kind === 'starting' || state.kind === 'waiting';
  return (
    <Modal
      title={`Sign in to “${account.name}” again`}
      size="small"
      onClose={() => {
        if (busy) signIn.cancel();
        onClose();
      }}
      footer={
        busy ? undefined : (
          <>
            <button type="button" className="button" onClick={onClose}>
              Not now
            </button>
            <button
              type="button"
              className="button button--primary"
              onClick={() => void signIn.start({ email: account.email, provider, accountId: account.id })}
            >
              Sign in with {name}
            </button>
          </>
        )
      }
    >
      <p>
        {name} no longer accepts this computer’s sign-in for {account.email} (it may have expired, or access was
        withdrawn). Sign in again in your browser; your mail stays where it is.
      </p>
      <SignInWaiting state={state} onCancel={signIn.cancel} />
      {state.kind === 'failed' && <SignInFailure error={state.error} />}
    </Modal>
  );
}
