/**
 * Signing in with a provider in the system browser (OAuth 2.0 for native apps, RFC 8252): the
 * service starts the sign-in and opens the browser when the shell can; the UI waits, offers to
 * cancel, and continues when the service reports `oauthSignInFinished`. Whereabouts never sees
 * the person's password. Used by the set-up screen (a new account) and by "Sign in again".
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { OAuthSignInFinished, OAuthSignInRequest } from '../../../../shared/api';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { useMailEvent } from '../../api/use-mail-event';
import { Icon } from '../../components/icons';

export type SignInState =
  | { kind: 'idle' }
  | { kind: 'starting' }
  | { kind: 'waiting'; signInId: string; authorizationUrl: string; browserOpened: boolean }
  | { kind: 'signed-in'; signInId: string }
  | { kind: 'failed'; error: unknown };

export interface OAuthSignIn {
  state: SignInState;
  start(request: OAuthSignInRequest): Promise<void>;
  cancel(): void;
  reset(): void;
}

/**
 * One sign-in at a time. `onFinished` hears the outcome of the sign-in this hook started (and no
 * other window's). An event that arrives before the start call has answered is kept and applied.
 */
export function useOAuthSignIn(onFinished?: (result: OAuthSignInFinished) => void): OAuthSignIn {
  const api = useMailApi();
  const [state, setState] = useState<SignInState>({ kind: 'idle' });
  const latest = useRef(onFinished);
  useEffect(() => {
    latest.current = onFinished;
  });
  const waitingFor = useRef<string | null>(null);
  const early = useRef(new Map<string, OAuthSignInFinished>());
  const attempt = useRef(0);

  const apply = useCallback((result: OAuthSignInFinished) => {
    waitingFor.current = null;
    setState(result.ok ? { kind: 'signed-in', signInId: result.signInId } : { kind: 'failed', error: result.error });
    latest.current?.(result);
  }, []);

  useMailEvent('oauthSignInFinished', (result) => {
    if (result.signInId === waitingFor.current) apply(result);
    else if (waitingFor.current === null && attempt.current > 0) early.current.set(result.signInId, result);
  });

  const start = useCallback(
    async (request: OAuthSignInRequest) => {
      const mine = ++attempt.current;
      early.current.clear();
      setState({ kind: 'starting' });
      try {
        const started = await api.startOAuthSignIn(request);
        if (attempt.current !== mine) {
          // Cancelled (or started again) while the service was starting this one.
          void api.cancelOAuthSignIn({ signInId: started.signInId }).catch(() => undefined);
          return;
        }
        const finished = early.current.get(started.signInId);
        if (finished !== undefined) {
          apply(finished);
          return;
        }
        waitingFor.current = started.signInId;
        setState({ kind: 'waiting', ...started });
      } catch (error) {
        if (attempt.current === mine) setState({ kind: 'failed', error });
      }
    },
    [api, apply],
  );

  const cancel = useCallback(() => {
    attempt.current += 1;
    const signInId = waitingFor.current;
    waitingFor.current = null;
    if (signInId !== null) void api.cancelOAuthSignIn({ signInId }).catch(() => undefined);
    setState({ kind: 'idle' });
  }, [api]);

  // Leaving the screen while the browser waits ends that sign-in, so it cannot finish unseen.
  useEffect(
    () => () => {
      const signInId = waitingFor.current;
      if (signInId !== null) void api.cancelOAuthSignIn({ signInId }).catch(() => undefined);
    },
    [api],
  );

  const reset = useCallback(() => {
    attempt.current += 1;
    waitingFor.current = null;
    setState({ kind: 'idle' });
  }, []);

  return { state, start, cancel, reset };
}

/** "Waiting for you to sign in in your browser…", with Cancel and, when needed, the page to open. */
export function SignInWaiting({ state, onCancel }: { state: SignInState; onCancel(): void }) {
  if (state.kind === 'starting') {
    return (
      <p className="sign-in__status" role="status">
        <span className="spinner" aria-hidden="true" /> Opening the sign-in page…
      </p>
    );
  }
  if (state.kind !== 'waiting') return null;
  return (
    <div className="sign-in__waiting" role="status">
      <p className="sign-in__status">
        <span className="spinner" aria-hidden="true" /> Waiting for you to sign in in your browser…
      </p>
      {state.browserOpened ? (
        <p className="muted">Finish signing in on the page that opened in your browser, then come back here.</p>
      ) : (
        <p>
          Open the sign-in page in your browser:{' '}
          <a href={state.authorizationUrl} target="_blank" rel="noopener noreferrer">
            Open the sign-in page
          </a>
        </p>
      )}
      <button type="button" className="button button--small" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

export function SignInFailure({ error }: { error: unknown }) {
  const text = describeError(error);
  return (
    <div className="callout callout--error" role="alert">
      <Icon name="warning" />
      <div>
        <p className="callout__title">The sign-in did not finish. {text.title}</p>
        {text.advice && <p>{text.advice}</p>}
        {text.detail && <p className="callout__detail">{text.detail}</p>}
      </div>
    </div>
  );
}
