/**
 * Adding an account: email and password first, then how to keep the mail and where the servers
 * are (looked up from the domain once the service offers it: discovery.ts), then a real
 * connection test before anything is saved.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ConnectionTestResult } from '../../../../shared/api';
import type { AccountView } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { Field } from '../../components/field';
import { Icon } from '../../components/icons';
import { Logo } from '../../app/logo';
import { ConnectionTestResultView } from './connection-test-result';
import { discoverServerSettings, type DiscoveredSettings } from './discovery';
import { LeaveOnServerField } from './leave-on-server-field';
import { ModeChoice } from './mode-choice';
import { ServerFields } from './server-fields';
import {
  effectiveUsername,
  emptyAccountForm,
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
  const actionsElement = useRef<HTMLDivElement>(null);
  const busy = progress.kind !== 'idle';
  const passed = result !== null && result.incoming.ok && (result.smtp === null || result.smtp.ok);

  const update = (patch: Partial<AccountForm>) => {
    setForm((previous) => ({ ...previous, ...patch }));
    // Any change makes an earlier test result stale.
    setResult(null);
    setFailure(null);
  };
  const updateEndpoint = (role: 'imap' | 'pop3' | 'smtp', value: EndpointForm) => update({ [role]: value });

  async function continueToServers(event: FormEvent) {
    event.preventDefault();
    const found: FieldErrors = {};
    const emailError = validateEmailAddress(form.email);
    if (emailError !== null) found.email = emailError;
    if (form.password === '') found.password = 'Enter the password of this mailbox.';
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setProgress({ kind: 'looking-up' });
    const outcome = await discoverServerSettings(api, form.email.trim());
    setProgress({ kind: 'idle' });
    if (outcome.kind === 'found' && outcome.settings.imap.length + outcome.settings.pop3.length > 0) {
      setForm((previous) => applyDiscovery(previous, outcome.settings));
      setSettingsSource(
        `Found the settings for ${outcome.settings.displayName ?? 'this domain'}. Check them, then test the connection.`,
      );
    } else {
      const guess = guessedHosts(form.email);
      if (guess !== null) {
        setForm((previous) => ({
          ...previous,
          imap: previous.imap.host === '' ? { ...previous.imap, host: guess.imap } : previous.imap,
          pop3: previous.pop3.host === '' ? { ...previous.pop3, host: guess.pop3 } : previous.pop3,
          smtp: previous.smtp.host === '' ? { ...previous.smtp, host: guess.smtp } : previous.smtp,
        }));
      }
      setSettingsSource(
        'Enter the server settings your provider gives you. The names filled in are the usual ones at your domain — a guess to check.',
      );
    }
    setStep('servers');
  }

  async function runTest(current: AccountForm): Promise<ConnectionTestResult | null> {
    const found = validateAccountForm(current, { requirePassword: true });
    setErrors(found);
    if (Object.keys(found).length > 0) return null;
    setProgress({ kind: 'testing' });
    setFailure(null);
    setResult(null);
    try {
      const outcome = await api.testConnection({ settings: settingsFromForm(current), password: current.password });
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
      const account = await api.addAccount({ settings: settingsFromForm(form), password: form.password });
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
            <Field label="Email address" error={errors.email}>
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="email"
                  autoComplete="email"
                  autoFocus
                  value={form.email}
                  onChange={(event) => update({ email: event.target.value })}
                />
              )}
            </Field>
            <Field label="Password" error={errors.password}>
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="password"
                  autoComplete="current-password"
                  value={form.password}
                  onChange={(event) => update({ password: event.target.value })}
                />
              )}
            </Field>
            <Field label="Account name" hint="Shown in the sidebar. Leave empty to use the email address.">
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="text"
                  placeholder="Work, Home…"
                  value={form.name}
                  onChange={(event) => update({ name: event.target.value })}
                />
              )}
            </Field>
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
              if (passed) void addAccount();
              else void runTest(form);
            }}
          >
            {settingsSource && (
              <p className="setup__source" role="note">
                {settingsSource}
              </p>
            )}
            <ModeChoice value={form.mode} onChange={(mode) => update({ mode })} />
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
            <Field label="User name" error={errors.username} hint="Usually your full email address.">
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="text"
                  autoComplete="username"
                  spellCheck={false}
                  value={effectiveUsername(form)}
                  onChange={(event) => update({ username: event.target.value, usernameEdited: true })}
                />
              )}
            </Field>

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
              <button type="button" className="button" onClick={() => setStep('identity')} disabled={busy}>
                Back
              </button>
              <button type="submit" className="button button--primary" disabled={busy}>
                {progress.kind === 'adding' ? 'Adding…' : passed ? 'Add account' : 'Test connection'}
              </button>
            </div>
          </form>
        )}
      </div>
    </main>
  );
}
