/**
 * Adding an account: email and password first, then how to keep the mail and where the servers
 * are (the provider's preset, or settings published for the domain, else the usual names as a
 * guess: discovery.ts), then a real connection test before anything is saved. For providers that
 * want it (Gmail, Outlook…) the person signs in in the browser instead of giving a password
 * (oauth-sign-in.tsx); iCloud gets the help for its app-specific passwords.
 */
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import type { ConnectionTestResult } from '../../../../shared/api';
import type { AccountView } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { TextField } from '../../components/field';
import { Icon } from '../../components/icons';
import { Logo } from '../../app/logo';
import { ConnectionTestResultView } from './connection-test-result';
import { lookUpAddress, type DiscoveredSettings, type ProviderView } from './discovery';
import { LeaveOnServerField } from './leave-on-server-field';
import { ModeChoice } from './mode-choice';
import { SignInFailure, SignInWaiting, useOAuthSignIn } from './oauth-sign-in';
import { ServerFields } from './server-fields';
import {
  effectiveUsername,
  emptyAccountForm,
  endpointForm,
  guessedHosts,
  settingsFromForm,
  validateAccountForm,
  validateEmailAddress,
  SERVER_LABELS,
  type AccountForm,
  type FieldErrors,
  type EndpointForm,
} from './setup-form';

type Step = 'identity' | 'servers';
type Progress = { kind: 'idle' } | { kind: 'testing' } | { kind: 'adding' } | { kind: 'looking-up' };

/** The provider's servers, modes and login name; sign-in in the browser when this copy can do it. */
function applyProvider(form: AccountForm, provider: ProviderView): AccountForm {
  const next = { ...form };
  if (provider.imap !== null) next.imap = endpointForm(provider.imap);
  if (provider.pop3 !== null) next.pop3 = endpointForm(provider.pop3);
  next.smtp = endpointForm(provider.smtp);
  if (!provider.modes.includes(next.mode)) next.mode = provider.modes[0] ?? 'imap';
  next.username = provider.username;
  next.usernameEdited = provider.username !== form.email.trim();
  next.auth = oauthOffered(provider) ? { kind: 'oauth2', provider: provider.signIn.provider } : { kind: 'password' };
  return next;
}

function oauthOffered(
  provider: ProviderView | null,
): provider is ProviderView & { signIn: Extract<ProviderView['signIn'], { kind: 'oauth2' }> } {
  return provider !== null && provider.signIn.kind === 'oauth2' && provider.signIn.available;
}

function applyDiscovery(form: AccountForm, found: DiscoveredSettings): AccountForm {
  const next = { ...form };
  for (const role of ['imap', 'pop3', 'smtp'] as const) {
    const best = found[role][0];
    if (best === undefined) continue;
    next[role] = { ...next[role], host: best.host, port: String(best.port), security: best.security };
    if (best.username !== null && !form.usernameEdited) {
      next.username = best.username;
      next.usernameEdited = best.username !== form.email.trim();
    }
  }
  if (found.imap.length === 0 && found.pop3.length > 0) next.mode = 'pop3';
  return next;
}

export function AccountSetup({ onDone, onCancel }: { onDone(account: AccountView): void; onCancel(): void }) {
  const api = useMailApi();
  const [form, setForm] = useState<AccountForm>(emptyAccountForm);
  const [step, setStep] = useState<Step>('identity');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [progress, setProgress] = useState<Progress>({ kind: 'idle' });
  const [result, setResult] = useState<ConnectionTestResult | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [settingsSource, setSettingsSource] = useState<string | null>(null);
  const [provider, setProvider] = useState<ProviderView | null>(null);
  const actionsElement = useRef<HTMLDivElement>(null);
  const busy = progress.kind !== 'idle';
  const passed = result !== null && result.incoming.ok && (result.smtp === null || result.smtp.ok);
  const formRef = useRef(form);
  useLayoutEffect(() => {
    formRef.current = form;
  });
  const signIn = useOAuthSignIn((outcome) => {
    // Signed in: test the connection with the new tokens straight away.
    if (outcome.ok) void runTest(formRef.current, outcome.signInId);
  });
  const signInId = signIn.state.kind === 'signed-in' ? signIn.state.signInId : null;
  const usesOAuth = form.auth.kind === 'oauth2';

  const update = (patch: Partial<AccountForm>) => {
    setForm((previous) => ({ ...previous, ...patch }));
    // Any change makes an earlier test result stale.
    setResult(null);
    setFailure(null);
    // A sign-in belongs to one address and one provider.
    if (patch.email !== undefined || patch.auth !== undefined) signIn.reset();
  };
  const updateEndpoint = (role: 'imap' | 'pop3' | 'smtp', value: EndpointForm) => update({ [role]: value });

  async function continueToServers(event: FormEvent) {
    event.preventDefault();
    const found: FieldErrors = {};
    const emailError = validateEmailAddress(form.email);
    if (emailError !== null) found.email = emailError;
    if (emailError !== null && form.password === '') found.password = 'Enter the password of this mailbox.';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setProgress({ kind: 'looking-up' });
    const email = form.email.trim();
    const outcome = await lookUpAddress(api, email);
    setProgress({ kind: 'idle' });
    // A password is asked here unless the provider is known: then the next step asks for what it needs.
    if (form.password === '' && outcome.provider === null) {
      setErrors({ password: 'Enter the password of this mailbox.' });
      return;
    }
    setProvider(outcome.provider);
    if (outcome.provider !== null) {
      const known = outcome.provider;
      setForm((previous) => applyProvider(previous, known));
      setSettingsSource(`Whereabouts knows the settings for ${known.displayName}.`);
    } else if (outcome.discovery.kind === 'found') {
      const settings = outcome.discovery.settings;
      setForm((previous) => ({ ...applyDiscovery(previous, settings), auth: { kind: 'password' } }));
      setSettingsSource(
        `Found the settings for ${settings.displayName ?? 'this domain'}. Check them, then test the connection.`,
      );
    } else {
      const guess = guessedHosts(form.email);
      setForm((previous) => ({
        ...previous,
        auth: { kind: 'password' },
        ...(guess === null
          ? {}
          : {
              imap: previous.imap.host === '' ? { ...previous.imap, host: guess.imap } : previous.imap,
              pop3: previous.pop3.host === '' ? { ...previous.pop3, host: guess.pop3 } : previous.pop3,
              smtp: previous.smtp.host === '' ? { ...previous.smtp, host: guess.smtp } : previous.smtp,
            }),
      }));
      setSettingsSource(
        'Enter the server settings your provider gives you. The names filled in are the usual ones at your domain — a guess to check.',
      );
    }
    setStep('servers');
  }

  /** The credential of the request: the finished sign-in, or the password. */
  function credential(
    current: AccountForm,
    currentSignInId: string | null,
  ): { signInId: string } | { password: string } {
    return current.auth.kind === 'oauth2' && currentSignInId !== null
      ? { signInId: currentSignInId }
      : { password: current.password };
  }

  async function runTest(
    current: AccountForm,
    currentSignInId: string | null = signInId,
  ): Promise<ConnectionTestResult | null> {
    const found = validateAccountForm(current, { requirePassword: true });
    setErrors(found);
    if (Object.keys(found).length > 0) return null;
    if (current.auth.kind === 'oauth2' && currentSignInId === null) return null;
    setProgress({ kind: 'testing' });
    setFailure(null);
    setResult(null);
    try {
      const outcome = await api.testConnection({
        settings: settingsFromForm(current),
        ...credential(current, currentSignInId),
      });
      setResult(outcome);
      return outcome;
    } catch (error) {
      setFailure(error);
      return null;
    } finally {
      setProgress({ kind: 'idle' });
    }
  }

  async function addAccount() {
    setProgress({ kind: 'adding' });
    setFailure(null);
    try {
      const account = await api.addAccount({ settings: settingsFromForm(form), ...credential(form, signInId) });
      onDone(account);
    } catch (error) {
      setFailure(error);
      setProgress({ kind: 'idle' });
    }
  }

  function trust(server: 'incoming' | 'smtp', fingerprint: string) {
    const role = server === 'incoming' ? form.mode : 'smtp';
    const next = { ...form, [role]: { ...form[role], pinnedFingerprint: fingerprint } };
    setForm(next);
    void runTest(next);
  }

  // The verdict appears at the end of the form, above the buttons: bring both into view.
  useEffect(() => {
    if (result !== null || failure !== null) actionsElement.current?.scrollIntoView({ block: 'end' });
  }, [result, failure]);

  const failureText = failure === null ? null : describeError(failure);
  const signInName = oauthOffered(provider) ? provider.signIn.displayName : null;
  const needsSignIn = usesOAuth && signInId === null;
  const passwordLabel = provider?.signIn.kind === 'app-password' ? 'App-specific password' : 'Password';

  return (
    <main className="setup" aria-labelledby="setup-title">
      <div className="setup__panel">
        <header className="setup__header">
          <Logo size={40} />
          <div>
            <h1 id="setup-title">Add an account</h1>
            <p className="setup__step">
              {step === 'identity' ? 'Step 1 of 2: your address' : 'Step 2 of 2: how and where'}
            </p>
          </div>
        </header>

        {step === 'identity' ? (
          <form className="setup__form" onSubmit={continueToServers} noValidate>
            <TextField
              label="Email address"
              error={errors.email}
              value={form.email}
              onChange={(value) => update({ email: value })}
              input={{ type: 'email', autoComplete: 'email', autoFocus: true }}
            />
            <TextField
              label="Password"
              error={errors.password}
              hint="Not needed for Gmail, Outlook and other providers you sign in to in your browser."

              value={form.password}
              onChange={(value) => update({ password: value })}
              input={{ type: 'password', autoComplete: 'current-password' }}
            />
            <TextField
              label="Account name"
              hint="Shown in the sidebar. Leave empty to use the email address."
              value={form.name}
              onChange={(value) => update({ name: value })}
              input={{ type: 'text', placeholder: 'Work, Home…' }}
            />
            <div className="setup__actions">
              <button type="button" className="button" onClick={onCancel}>
                Cancel
              </button>
              <button type="submit" className="button button--primary" disabled={busy}>
                {progress.kind === 'looking-up' ? 'Looking up settings…' : 'Continue'}
              </button>
            </div>
          </form>
        ) : (
          <form
            className="setup__form"
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              if (needsSignIn) return;
              if (passed) void addAccount();
              else void runTest(form);
            }}
          >
            {settingsSource && (
              <p className="setup__source" role="note">
                {settingsSource}
              </p>
            )}
            {provider !== null && provider.signIn.kind === 'app-password' && (
              <div className="callout callout--info" role="note">
                <Icon name="key" />
                <div>
                  <p className="callout__title">{provider.displayName} needs an app-specific password.</p>
                  <p>
                    Your usual password will not work here. Make an app-specific password for Whereabouts in your
                    account’s security settings, then enter it below.{' '}
                    <a href={provider.signIn.helpUrl} target="_blank" rel="noopener noreferrer">
                      How to make an app-specific password
                    </a>
                  </p>
                </div>
              </div>
            )}
            {provider !== null && provider.signIn.kind === 'oauth2' && !provider.signIn.available && (
              <p className="callout callout--info" role="note">
                <Icon name="key" /> Signing in with {provider.signIn.displayName} in the browser is not set up in this
                copy of Whereabouts. Use an app password from your {provider.signIn.displayName} account instead.
              </p>
            )}
            {signInName !== null && (
              <section className="sign-in" aria-label={`Sign in with ${signInName}`}>
                {usesOAuth ? (
                  <>
                    {signIn.state.kind === 'signed-in' ? (
                      <p className="sign-in__done" role="status">
                        <Icon name="check" /> Signed in with {signInName} as {form.email.trim()}.
                      </p>
                    ) : signIn.state.kind === 'starting' || signIn.state.kind === 'waiting' ? (
                      <SignInWaiting state={signIn.state} onCancel={signIn.cancel} />
                    ) : (
                      <>
                        <p>
                          {provider?.displayName} asks you to sign in on its own page in your browser. Whereabouts never
                          sees your password.
                        </p>
                        <button
                          type="button"
                          className="button button--primary"
                          onClick={() =>
                            void signIn.start({ email: form.email.trim(), provider: signInProvider(form) })
                          }
                        >
                          <Icon name="key" size={16} /> Sign in with {signInName}
                        </button>
                      </>
                    )}
                    {signIn.state.kind === 'failed' && <SignInFailure error={signIn.state.error} />}
                    {signIn.state.kind !== 'waiting' && signIn.state.kind !== 'starting' && (
                      <button
                        type="button"
                        className="button--link"
                        onClick={() => update({ auth: { kind: 'password' } })}
                      >
                        Use an app password instead
                      </button>
                    )}
                  </>
                ) : (
                  <p>
                    Signing in with an app password.{' '}
                    <button
                      type="button"
                      className="button--link"
                      onClick={() =>
                        provider?.signIn.kind === 'oauth2' &&
                        update({ auth: { kind: 'oauth2', provider: provider.signIn.provider } })
                      }
                    >
                      Sign in with {signInName} instead
                    </button>
                  </p>
                )}
              </section>
            )}
            {provider !== null && !usesOAuth && (
              <TextField
                label={passwordLabel}
                error={errors.password}
                value={form.password}
                onChange={(value) => update({ password: value })}
                input={{ type: 'password', autoComplete: 'current-password' }}
              />
            )}
            <ModeChoice
              value={form.mode}
              onChange={(mode) => update({ mode })}
              available={provider?.modes ?? ['imap', 'pop3']}
              providerName={provider?.displayName ?? null}
            />
            {form.mode === 'pop3' && (
              <LeaveOnServerField
                value={form.leaveOnServer}
                onChange={(leaveOnServer) => update({ leaveOnServer })}
                errors={errors}
              />
            )}
            <ServerFields
              role={form.mode}
              legend={`Incoming mail (${SERVER_LABELS[form.mode]})`}
              value={form[form.mode]}
              onChange={(value) => updateEndpoint(form.mode, value)}
              errors={errors}
            />
            <ServerFields
              role="smtp"
              legend="Outgoing mail (SMTP)"
              value={form.smtp}
              onChange={(value) => updateEndpoint('smtp', value)}
              errors={errors}
            />
            <TextField
              label="User name"
              error={errors.username}
              hint="Usually your full email address."
              value={effectiveUsername(form)}
              onChange={(value) => update({ username: value, usernameEdited: true })}
              input={{ type: 'text', autoComplete: 'username', spellCheck: false }}
            />

            <div aria-live="polite" className="setup__outcome">
              {progress.kind === 'testing' && (
                <p className="setup__testing">
                  <span className="spinner" aria-hidden="true" /> Connecting to the servers…
                </p>
              )}
              {result !== null && (
                <ConnectionTestResultView
                  result={result}
                  incomingLabel={`Incoming mail (${SERVER_LABELS[form.mode]})`}
                  onTrust={trust}
                />
              )}
            </div>
            {failureText !== null && (
              <div className="callout callout--error" role="alert">
                <Icon name="warning" />
                <div>
                  <p className="callout__title">{failureText.title}</p>
                  {failureText.advice && <p>{failureText.advice}</p>}
                  {failureText.detail && <p className="callout__detail">{failureText.detail}</p>}
                </div>
              </div>
            )}
            <div className="setup__actions" ref={actionsElement}>
              <button
                type="button"
                className="button"
                onClick={() => {
                  if (signIn.state.kind === 'waiting') signIn.cancel();
                  setStep('identity');
                }}
                disabled={busy}
              >
                Back
              </button>
              {!needsSignIn && (
                <button type="submit" className="button button--primary" disabled={busy}>
                  {progress.kind === 'adding' ? 'Adding…' : passed ? 'Add account' : 'Test connection'}
                </button>
              )}
            </div>
          </form>
        )}
      </div>
    </main>
  );
}

function signInProvider(form: AccountForm): string {
  return form.auth.kind === 'oauth2' ? form.auth.provider : '';
}
