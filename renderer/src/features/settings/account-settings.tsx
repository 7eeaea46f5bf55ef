/**
 * One account's settings: servers (both incoming protocols, so a switch has them at hand),
 * password, mode (switched through the what-if dialog), leave-a-copy policy with its preview,
 * offline folders, check interval, pinned certificates. Saved with updateAccount.
 */
import { useState } from 'react';
import type { ChangePlan } from '../../../../shared/api';
import type { AccountView, FolderView } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { Modal } from '../../components/dialog';
import { TextField } from '../../components/field';
import { formatBytes, plural } from '../../components/format';
import { Icon } from '../../components/icons';
import { useToasts } from '../../components/toast';
import { LeaveOnServerField } from '../accounts/leave-on-server-field';
import { providerName, SignInAgainButton } from '../accounts/sign-in-again';
import { ServerFields } from '../accounts/server-fields';
import {
  formFromSettings,
  MODE_EXPLANATIONS,
  settingsFromForm,
  validateAccountForm,
  validateEndpointForm,
  type AccountForm,
  type FieldErrors,
} from '../accounts/setup-form';

export function AccountSettingsView({
  account,
  folders,
  onSwitchMode,
  onRemoved,
}: {
  account: AccountView;
  folders: FolderView[];
  onSwitchMode(account: AccountView): void;
  onRemoved(): void;
}) {
  const api = useMailApi();
  const toasts = useToasts();
  const [form, setForm] = useState<AccountForm>(() => formFromSettings(account));
  const [offline, setOffline] = useState<string[]>(account.offlineFolders);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [leavePreview, setLeavePreview] = useState<ChangePlan | null>(null);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const other = form.mode === 'imap' ? 'pop3' : 'imap';
  const serverFolders = folders.filter((folder) => folder.kind === 'server');

  const update = (patch: Partial<AccountForm>) => {
    setForm((previous) => ({ ...previous, ...patch }));
    setLeavePreview(null);
  };

  async function save() {
    const found = validateAccountForm(form, { requirePassword: false });
    if (form[other].host.trim() !== '') validateEndpointForm(other, form[other], found);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    setSaving(true);
    setFailure(null);
    try {
      const settings = { ...settingsFromForm(form, account), offlineFolders: offline };
      await api.updateAccount({
        accountId: account.id,
        settings,
        password: form.password === '' ? null : form.password,
      });
      setForm((previous) => ({ ...previous, password: '' }));
      toasts.show({ kind: 'success', title: 'Settings saved.' });
    } catch (error) {
      setFailure(error);
    } finally {
      setSaving(false);
    }
  }

  async function previewLeave() {
    const found: FieldErrors = {};
    const settings = settingsFromForm(form, account);
    if (form.leaveOnServer.kind === 'days' && !(Number(form.leaveOnServer.days) >= 1)) {
      found['leave.days'] = 'Enter a number of days.';
      setErrors(found);
      return;
    }
    try {
      setLeavePreview(
        await api.planChange({
          accountId: account.id,
          change: { kind: 'leave-on-server', leaveOnServer: settings.leaveOnServer },
        }),
      );
    } catch (error) {
      toasts.showError('The effect of this setting could not be worked out.', error);
    }
  }

  async function remove() {
    try {
      await api.removeAccount({ accountId: account.id });
      toasts.show({ kind: 'success', title: `“${account.name}” was removed from Whereabouts.` });
      onRemoved();
    } catch (error) {
      toasts.showError('The account could not be removed.', error);
    }
  }

  const failureText = failure === null ? null : describeError(failure);
  const modeName = form.mode === 'imap' ? 'IMAP' : 'POP3';
  const otherName = other === 'imap' ? 'IMAP' : 'POP3';

  return (
    <main className="pane pane--wide settings" aria-labelledby="settings-title">
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <header className="page-header page-header--split">
          <div>
            <h1 id="settings-title">{account.name}</h1>
            <p className="muted">{account.email}</p>
          </div>
          <button type="submit" className="button button--primary" disabled={saving}>
            {saving ? 'Saving…' : 'Save changes'}
          </button>
        </header>
        {failureText !== null && (
          <div className="callout callout--error" role="alert">
            <Icon name="warning" />
            <div>
              <p className="callout__title">The settings were not saved. {failureText.title}</p>
              {failureText.advice && <p>{failureText.advice}</p>}
            </div>
          </div>
        )}

        <section className="settings-section" aria-labelledby="settings-mode">
          <h2 id="settings-mode">How mail is kept</h2>
          <p>
            <span className="mode-badge">{modeName}</span> {MODE_EXPLANATIONS[form.mode].summary}
          </p>
          <button type="button" className="button" onClick={() => onSwitchMode(account)}>
            Switch to {otherName}…
          </button>
          <p className="field__hint">You will see exactly what would move before anything changes.</p>
          {form.mode === 'pop3' && (
            <>
              <LeaveOnServerField
                value={form.leaveOnServer}
                onChange={(leaveOnServer) => update({ leaveOnServer })}
                errors={errors}
              />
              <button type="button" className="button button--small" onClick={() => void previewLeave()}>
                What would this change?
              </button>
              {leavePreview !== null && (
                <p className="callout callout--info" role="status">
                  <Icon name="server" />
                  {leavePreview.totals.deleteOnServer.count === 0
                    ? 'With this setting no message would be deleted from the server.'
                    : `With this setting, ${plural(leavePreview.totals.deleteOnServer.count, 'message', 'messages')} (${formatBytes(
                        leavePreview.totals.deleteOnServer.bytes,
                      )}) would be deleted from the server at the next check — each one only after it is safely stored here.`}
                </p>
              )}
            </>
          )}
        </section>

        <section className="settings-section" aria-labelledby="settings-account">
          <h2 id="settings-account">Account</h2>
          <div className="form-grid">
            <TextField label="Account name" value={form.name} onChange={(value) => update({ name: value })} />
            <TextField
              label="Email address"
              error={errors.email}
              value={form.email}
              onChange={(value) => update({ email: value })}
              input={{ type: 'email' }}
            />
            <TextField
              label="User name"
              error={errors.username}
              value={form.username}
              onChange={(value) => update({ username: value, usernameEdited: true })}
            />
            {account.auth?.kind === 'oauth2' ? (
              <div className="field">
                <span className="field__label">Sign-in</span>
                <p>
                  Signs in with {providerName(account.auth.provider)} in your browser; no password is kept.
                  {account.signInRequired === true && (
                    <strong> {providerName(account.auth.provider)} no longer accepts this computer’s sign-in.</strong>
                  )}
                </p>
                <SignInAgainButton account={account} compact={account.signInRequired !== true} />
              </div>
            ) : (
              <TextField
                label="New password"
                hint="Leave empty to keep the current one."
                value={form.password}
                onChange={(value) => update({ password: value })}
                input={{ type: 'password', autoComplete: 'new-password' }}
              />
            )}
          </div>
        </section>

        <section className="settings-section" aria-labelledby="settings-servers">
          <h2 id="settings-servers">Servers</h2>
          <div className="form-grid form-grid--servers">
            <ServerFields
              role={form.mode}
              legend={`Incoming mail (${modeName}, in use)`}
              value={form[form.mode]}
              onChange={(value) => update({ [form.mode]: value })}
              errors={errors}
            />
            <ServerFields
              role={other}
              legend={`${otherName} (for switching; optional)`}
              value={form[other]}
              onChange={(value) => update({ [other]: value })}
              errors={errors}
            />
            <ServerFields
              role="smtp"
              legend="Outgoing mail (SMTP)"
              value={form.smtp}
              onChange={(smtp) => update({ smtp })}
              errors={errors}
            />
          </div>
        </section>

        <section className="settings-section" aria-labelledby="settings-checking">
          <h2 id="settings-checking">Checking for mail</h2>
          <TextField
            label="Check every (minutes)"
            error={errors.checkInterval}
            hint="0 checks only when you ask. IMAP accounts also get new mail pushed while online (IDLE)."
            className="field--narrow"

            value={form.checkIntervalMinutes}
            onChange={(value) => update({ checkIntervalMinutes: value })}
            input={{ inputMode: 'numeric' }}
          />
          {form.mode === 'imap' && serverFolders.length > 0 && (
            <fieldset className="choice-list">
              <legend>Keep these folders available offline</legend>
              <p className="field__hint">
                Their messages are downloaded whole, so you can read them without a connection.
              </p>
              {serverFolders.map((folder) => (
                <label key={folder.id} className="checkbox">
                  <input
                    type="checkbox"
                    checked={offline.includes(folder.path)}
                    onChange={(event) =>
                      setOffline((list) =>
                        event.target.checked ? [...list, folder.path] : list.filter((path) => path !== folder.path),
                      )
                    }
                  />
                  <span>
                    {folder.path} <span className="muted">({plural(folder.total, 'message', 'messages')})</span>
                  </span>
                </label>
              ))}
            </fieldset>
          )}
        </section>

        <section className="settings-section settings-section--danger" aria-labelledby="settings-remove">
          <h2 id="settings-remove">Remove this account</h2>
          <p className="muted">Whereabouts forgets this account and its password. Mail on the server is not touched.</p>
          <button type="button" className="button button--danger" onClick={() => setConfirmRemove(true)}>
            Remove “{account.name}”…
          </button>
        </section>
      </form>
      {confirmRemove && (
        <Modal
          title={`Remove “${account.name}”?`}
          size="small"
          onClose={() => setConfirmRemove(false)}
          footer={
            <>
              <button type="button" className="button" onClick={() => setConfirmRemove(false)} autoFocus>
                Keep it
              </button>
              <button type="button" className="button button--danger" onClick={() => void remove()}>
                Remove
              </button>
            </>
          }
        >
          <p>
            {account.mode === 'pop3'
              ? 'Mail downloaded by POP3 may exist only on this computer. Export it first if you want to keep it.'
              : 'Your mail stays on the server and can be added again later.'}
          </p>
        </Modal>
      )}
    </main>
  );
}
