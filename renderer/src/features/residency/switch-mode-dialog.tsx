/**
 * Switching an account between IMAP and POP3 (SEMANTICS S13): choose the options, see exactly what
 * would move (planChange) before anything happens, confirm, and follow the switch's progress
 * (syncProgress, phase "switch"). A switch never deletes anything anywhere and can be undone.
 */
import { useState } from 'react';
import type { ChangePlan, ProposedChange } from '../../../../shared/api';
import type { AccountView, FolderView, SyncProgress } from '../../../../shared/model';
import { toErrorPayload } from '../../../../shared/errors';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { useMailEvent } from '../../api/use-mail-event';
import { Modal } from '../../components/dialog';
import { formatBytes, formatCount } from '../../components/format';
import { Icon } from '../../components/icons';
import { ProgressBar } from '../../components/progress';
import { LeaveOnServerField } from '../accounts/leave-on-server-field';
import { ServerFields } from '../accounts/server-fields';
import {
  DEFAULT_PORTS,
  endpointFromForm,
  endpointFromSettings,
  MODE_EXPLANATIONS,
  validateEndpointForm,
  type EndpointForm,
  type FieldErrors,
  type LeaveOnServerForm,
  MAXIMUM_LEAVE_DAYS,
} from '../accounts/setup-form';

/**
 * The server of the mode switched to: the account's saved one, else the host of the current mode
 * on the other protocol's implicit-TLS port (RFC 8314), as the service would assume it.
 */
function initialTargetEndpoint(account: AccountView, target: 'imap' | 'pop3'): EndpointForm {
  const saved = account[target];
  if (saved !== null) return endpointFromSettings(saved, target);
  const current = account[account.mode];
  return {
    ...endpointFromSettings(null, target),
    host: current?.host ?? '',
    port: String(DEFAULT_PORTS[target].tls),
  };
}
import { PlanView } from './plan-view';

type Stage =
  | { kind: 'choose' }
  | { kind: 'planning' }
  | { kind: 'planned'; plan: ChangePlan; change: ProposedChange }
  | { kind: 'switching'; plan: ChangePlan; progress: SyncProgress | null; cancelling: boolean }
  | { kind: 'done'; plan: ChangePlan }
  /** The user cancelled: the service's sentence says which mode the account has and what was kept. */
  | { kind: 'stopped'; plan: ChangePlan; message: string }
  | { kind: 'failed'; error: unknown; plan: ChangePlan | null };

export function SwitchModeDialog({
  account,
  folders,
  onClose,
}: {
  account: AccountView;
  folders: FolderView[];
  onClose(): void;
}) {
  const api = useMailApi();
  const target = account.mode === 'imap' ? 'pop3' : 'imap';
  const targetName = target === 'imap' ? 'IMAP' : 'POP3';
  const [stage, setStage] = useState<Stage>({ kind: 'choose' });
  const [leave, setLeave] = useState<LeaveOnServerForm>({ kind: 'forever', days: '30' });
  const [allFolders, setAllFolders] = useState(false);
  const serverFolders = folders.filter((folder) => folder.kind === 'server');
  const inbox = serverFolders.find((folder) => folder.role === 'inbox') ?? serverFolders[0];
  const [uploadTo, setUploadTo] = useState<string | null>(inbox?.path ?? null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const endpointKnown = account[target] !== null;
  const [endpoint, setEndpoint] = useState<EndpointForm>(() => initialTargetEndpoint(account, target));
  const [editingServer, setEditingServer] = useState(!endpointKnown);

  useMailEvent('syncProgress', (progress) => {
    if (progress.accountId !== account.id || progress.phase !== 'switch') return;
    setStage((current) => (current.kind === 'switching' ? { ...current, progress } : current));
  });

  function proposed(): ProposedChange | null {
    const found: FieldErrors = {};
    if (editingServer) validateEndpointForm(target, endpoint, found);
    if (leave.kind === 'days' && target === 'pop3') {
      const days = Number(leave.days);
      if (!Number.isInteger(days) || days < 1 || days > MAXIMUM_LEAVE_DAYS) {
        found['leave.days'] = `Enter a number of days from 1 to ${MAXIMUM_LEAVE_DAYS}.`;
      }
    }
    setErrors(found);
    if (Object.keys(found).length > 0) return null;
    // Only a server the user saw and chose is sent; otherwise the service uses the saved one.
    const server = editingServer ? { server: endpointFromForm(endpoint) } : {};
    if (target === 'imap') return { kind: 'switch-mode', to: 'imap', uploadLocalTo: uploadTo, ...server };
    const leaveOnServer =
      leave.kind === 'days' ? { kind: 'days' as const, days: Number(leave.days) } : { kind: leave.kind };
    return { kind: 'switch-mode', to: 'pop3', leaveOnServer, allFolders, ...server };
  }

  async function preview() {
    const change = proposed();
    if (change === null) return;
    setErrors({});
    setStage({ kind: 'planning' });
    try {
      setStage({ kind: 'planned', plan: await api.planChange({ accountId: account.id, change }), change });
    } catch (error) {
      setStage({ kind: 'failed', error, plan: null });
    }
  }

  async function run(plan: ChangePlan, change: ProposedChange) {
    setStage({ kind: 'switching', plan, progress: null, cancelling: false });
    try {
      setStage({ kind: 'done', plan: await api.switchMode({ accountId: account.id, change }) });
    } catch (error) {
      const payload = toErrorPayload(error);
      if (payload.code === 'CANCELLED') setStage({ kind: 'stopped', plan, message: payload.message });
      else setStage({ kind: 'failed', error, plan });
    }
  }

  /** Cancel while switching: honoured by the service until the new mode is committed. */
  async function cancelSwitch() {
    setStage((current) => (current.kind === 'switching' ? { ...current, cancelling: true } : current));
    try {
      await api.cancelWork({ accountId: account.id, work: 'switch' });
    } catch {
      // The switch goes on; its own outcome is shown when it ends.
    }
  }

  const busy = stage.kind === 'planning' || stage.kind === 'switching';
  const canCancelSwitch = stage.kind === 'switching' && !stage.cancelling && stage.progress?.cancellable === 'switch';
  const footer = (
    <>
      {stage.kind === 'switching' && (
        <button type="button" className="button" onClick={() => void cancelSwitch()} disabled={!canCancelSwitch}>
          {stage.cancelling ? 'Cancelling…' : 'Cancel switch'}
        </button>
      )}
      {stage.kind !== 'done' && stage.kind !== 'switching' && stage.kind !== 'stopped' && (
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
      )}
      {stage.kind === 'stopped' && (
        <button type="button" className="button button--primary" onClick={onClose}>
          Close
        </button>
      )}
      {(stage.kind === 'choose' || stage.kind === 'planning' || (stage.kind === 'failed' && stage.plan === null)) && (
        <button type="button" className="button button--primary" onClick={() => void preview()} disabled={busy}>
          {stage.kind === 'planning' ? 'Working out what would move…' : 'Show what would change'}
        </button>
      )}
      {stage.kind === 'planned' && (
        <>
          <button type="button" className="button" onClick={() => setStage({ kind: 'choose' })}>
            Change options
          </button>
          <button type="button" className="button button--primary" onClick={() => void run(stage.plan, stage.change)}>
            Switch to {targetName}
          </button>
        </>
      )}
      {stage.kind === 'done' && (
        <button type="button" className="button button--primary" onClick={onClose}>
          Done
        </button>
      )}
    </>
  );

  return (
    <Modal
      title={`Switch “${account.name}” to ${targetName}`}
      onClose={() => !busy && onClose()}
      footer={footer}
      size="large"
    >
      <p className="lead">{MODE_EXPLANATIONS[target].summary}</p>
      <p className="callout callout--info">
        <Icon name="check" /> Switching never deletes a message, here or on the server, and you can switch back at any
        time.
      </p>
      {(stage.kind === 'choose' || stage.kind === 'planning') && (
        <div className="switch-options">
          {editingServer ? (
            <>
              {!endpointKnown && (
                <p className="muted">
                  This account has no {targetName} server saved yet. Whereabouts suggests the usual one at your
                  provider; check it.
                </p>
              )}
              <ServerFields
                role={target}
                legend={`${targetName} server`}
                value={endpoint}
                onChange={setEndpoint}
                errors={errors}
              />
            </>
          ) : (
            <p className="switch-options__server">
              <Icon name="server" size={16} /> {targetName} server: {endpoint.host}, port {endpoint.port}{' '}
              <button type="button" className="button--link" onClick={() => setEditingServer(true)}>
                Change
              </button>
            </p>
          )}
          {target === 'pop3' ? (
            <>
              <LeaveOnServerField value={leave} onChange={setLeave} errors={errors} />
              <label className="checkbox">
                <input type="checkbox" checked={allFolders} onChange={(event) => setAllFolders(event.target.checked)} />
                <span>Also download every other server folder now (POP3 will only reach the inbox afterwards).</span>
              </label>
            </>
          ) : (
            <label className="field">
              <span className="field__label">Upload mail that is only on this computer to</span>
              <select
                className="input"
                value={uploadTo ?? ''}
                onChange={(event) => setUploadTo(event.target.value === '' ? null : event.target.value)}
              >
                {serverFolders.map((folder) => (
                  <option key={folder.id} value={folder.path}>
                    {folder.path}
                  </option>
                ))}
                <option value="">Don’t upload; keep it only on this computer</option>
              </select>
              <span className="field__hint">Messages already on the server are recognised and not uploaded twice.</span>
            </label>
          )}
        </div>
      )}
      {(stage.kind === 'planned' || stage.kind === 'done') && <PlanView plan={stage.plan} />}
      {stage.kind === 'switching' && (
        <div className="switch-progress" aria-live="polite">
          <p>
            Switching…{' '}
            {stage.progress !== null && stage.progress.total > 0 && (
              <>
                {formatCount(stage.progress.done)} of {formatCount(stage.progress.total)} messages
                {stage.progress.bytes > 0 && ` (${formatBytes(stage.progress.bytes)})`}
                {stage.progress.folder && ` in ${stage.progress.folder}`}
              </>
            )}
          </p>
          <ProgressBar value={stage.progress?.done ?? 0} maximum={stage.progress?.total ?? 0} label="Switch progress" />
          <p className="muted">
            {stage.cancelling
              ? 'Cancelling… the message being downloaded now is finished first.'
              : stage.progress?.cancellable === 'switch'
                ? 'You can keep reading mail while this runs. Cancel keeps the account as it is, with the copies downloaded so far.'
                : 'You can keep reading mail while this runs.'}
          </p>
        </div>
      )}
      {stage.kind === 'done' && (
        <p className="callout callout--success" role="status">
          <Icon name="check" /> “{account.name}” now runs in {targetName} mode.
        </p>
      )}
      {stage.kind === 'stopped' && (
        <div className="callout callout--info" role="status">
          <Icon name="check" />
          <div>
            <p className="callout__title">The switch was cancelled.</p>
            <p>{stage.message}</p>
            <p>Nothing was deleted. You can switch again at any time; what was already done is not repeated.</p>
          </div>
        </div>
      )}
      {stage.kind === 'failed' && (
        <div className="callout callout--error" role="alert">
          <Icon name="warning" />
          <div>
            <p className="callout__title">
              {stage.plan === null ? 'The preview could not be worked out.' : 'The switch stopped.'}{' '}
              {describeError(stage.error).title}
            </p>
            {describeError(stage.error).advice && <p>{describeError(stage.error).advice}</p>}
            {stage.plan !== null && (
              <p>Nothing was deleted. You can try again; what was already done is not repeated.</p>
            )}
          </div>
        </div>
      )}
    </Modal>
  );
}
