/**
 * Creating, renaming and deleting folders (SEMANTICS S3): on the server in IMAP mode (so every
 * device sees the change), on this computer in either mode. POP3 has no server folders; the
 * service refuses them with NOT_AVAILABLE_IN_MODE and its sentence is shown as it is.
 */
import { useState, type FormEvent } from 'react';
import { toErrorPayload } from '../../../../shared/errors';
import type { AccountView, FolderKind, FolderView } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailApi } from '../../api/service-context';
import { Modal } from '../../components/dialog';
import { TextField } from '../../components/field';
import { plural } from '../../components/format';
import { Icon } from '../../components/icons';
import { useToasts } from '../../components/toast';
import { folderLabel } from './folder-tree';

/** The longest folder name the service takes (main/service/message-handlers.ts). */
const MAXIMUM_NAME_LENGTH = 255;

export type FolderDialog =
  | { kind: 'create'; account: AccountView; parent: FolderView | null }
  | { kind: 'rename'; account: AccountView; folder: FolderView }
  | { kind: 'delete'; account: AccountView; folder: FolderView }
  | { kind: 'export'; account: AccountView; folder: FolderView };

function checkName(name: string, delimiter: string): string | null {
  const trimmed = name.trim();
  if (trimmed === '') return 'Enter a name for the folder.';
  if (trimmed.length > MAXIMUM_NAME_LENGTH) return `Use at most ${MAXIMUM_NAME_LENGTH} characters.`;
  if (delimiter !== '' && trimmed.includes(delimiter)) {
    return `A name cannot contain “${delimiter}”: it separates a folder from the folders inside it.`;
  }
  return null;
}

function Failure({ error }: { error: unknown }) {
  const text = describeError(error);
  return (
    <div className="callout callout--error" role="alert">
      <Icon name="warning" />
      <div>
        <p className="callout__title">{text.title}</p>
        {text.advice && <p>{text.advice}</p>}
        {text.detail && <p className="callout__detail">{text.detail}</p>}
      </div>
    </div>
  );
}

export function FolderDialogView({ dialog, onClose }: { dialog: FolderDialog; onClose(deleted?: FolderView): void }) {
  if (dialog.kind === 'delete')
    return <DeleteFolder account={dialog.account} folder={dialog.folder} onClose={onClose} />;
  if (dialog.kind === 'export') return <ExportFolder folder={dialog.folder} onClose={() => onClose()} />;
  return <NameFolder dialog={dialog} onClose={onClose} />;
}

/**
 * Export (S11): mbox (one file) or .eml files (a folder) into the Downloads folder. The dialog
 * closes when the export starts; its progress and Cancel are in the status area, and a toast
 * says where the export went.
 */
function ExportFolder({ folder, onClose }: { folder: FolderView; onClose(): void }) {
  const api = useMailApi();
  const toasts = useToasts();
  const [format, setFormat] = useState<'mbox' | 'eml'>('mbox');
  const label = folderLabel(folder);

  function start(event: FormEvent) {
    event.preventDefault();
    onClose();
    api.exportFolder({ folderId: folder.id, format }).then(
      (result) =>
        toasts.show({
          kind: 'success',
          title: `Exported ${plural(result.exported, 'message', 'messages')} to ${result.path}`,
          body:
            result.skipped > 0
              ? `${plural(result.skipped, 'message was', 'messages were')} skipped: not on this computer and the server could not be reached.`
              : null,
        }),
      (error: unknown) => {
        // A stopped export is told about in the status area, with what was removed.
        if (toErrorPayload(error).code !== 'CANCELLED') toasts.showError(`Could not export ${label}.`, error);
      },
    );
  }

  const formId = 'folder-form-export';
  return (
    <Modal
      title={`Export “${label}”`}
      size="small"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button--primary">
            Export
          </button>
        </>
      }
    >
      <form id={formId} className="folder-form" onSubmit={start} noValidate>
        <fieldset className="choice-list">
          <legend>Format</legend>
          <label className="checkbox">
            <input
              type="radio"
              name="export-format"
              checked={format === 'mbox'}
              onChange={() => setFormat('mbox')}
              autoFocus
            />
            <span>
              mbox <span className="muted">— one file, for other mail programs</span>
            </span>
          </label>
          <label className="checkbox">
            <input type="radio" name="export-format" checked={format === 'eml'} onChange={() => setFormat('eml')} />
            <span>
              .eml files <span className="muted">— a folder with one file per message</span>
            </span>
          </label>
        </fieldset>
        <p className="muted">
          The export goes into your Downloads folder under a new name; nothing there is overwritten. Messages not yet on
          this computer are downloaded first.
        </p>
      </form>
    </Modal>
  );
}

function NameFolder({
  dialog,
  onClose,
}: {
  dialog: Exclude<FolderDialog, { kind: 'delete' | 'export' }>;
  onClose(): void;
}) {
  const api = useMailApi();
  const toasts = useToasts();
  const { account } = dialog;
  const parent = dialog.kind === 'create' ? dialog.parent : null;
  const [name, setName] = useState(dialog.kind === 'rename' ? dialog.folder.name : '');
  const [kind, setKind] = useState<FolderKind>(parent?.kind ?? (account.mode === 'imap' ? 'server' : 'local'));
  const [error, setError] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const delimiter = dialog.kind === 'rename' ? dialog.folder.delimiter : (parent?.delimiter ?? '/');

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problem = checkName(name, delimiter);
    setError(problem);
    if (problem !== null) return;
    setBusy(true);
    setFailure(null);
    try {
      if (dialog.kind === 'rename') {
        await api.renameFolder({ folderId: dialog.folder.id, name: name.trim() });
        toasts.show({ kind: 'success', title: `Folder renamed to ${name.trim()}.` });
      } else {
        await api.createFolder({ accountId: account.id, name: name.trim(), parentId: parent?.id ?? null, kind });
        toasts.show({
          kind: 'success',
          title: `Folder ${name.trim()} created ${kind === 'server' ? 'on the server' : 'on this computer'}.`,
        });
      }
      onClose();
    } catch (caught) {
      setFailure(caught);
      setBusy(false);
    }
  }

  const title =
    dialog.kind === 'rename'
      ? `Rename “${folderLabel(dialog.folder)}”`
      : parent === null
        ? `New folder in “${account.name}”`
        : `New folder inside “${folderLabel(parent)}”`;
  const formId = `folder-form-${dialog.kind}`;
  return (
    <Modal
      title={title}
      size="small"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button--primary" disabled={busy}>
            {dialog.kind === 'rename' ? 'Rename' : 'Create folder'}
          </button>
        </>
      }
    >
      <form id={formId} className="folder-form" onSubmit={(event) => void submit(event)} noValidate>
        <TextField
          label="Folder name"
          error={error}
          value={name}
          onChange={(value) => setName(value)}
          input={{ autoFocus: true }}
        />
        {dialog.kind === 'create' && parent === null && (
          <fieldset className="choice-list">
            <legend>Where</legend>
            <label className="checkbox">
              <input type="radio" name="folder-kind" checked={kind === 'server'} onChange={() => setKind('server')} />
              <span>
                On the server{' '}
                <span className="muted">
                  {account.mode === 'imap'
                    ? '— every computer and phone sees it'
                    : '— POP3 reaches only the server’s inbox'}
                </span>
              </span>
            </label>
            <label className="checkbox">
              <input type="radio" name="folder-kind" checked={kind === 'local'} onChange={() => setKind('local')} />
              <span>
                On this computer <span className="muted">— only here, also in POP3 mode</span>
              </span>
            </label>
          </fieldset>
        )}
        {dialog.kind === 'rename' && dialog.folder.kind === 'server' && account.mode === 'imap' && (
          <p className="muted">The folder is renamed on the server, so every device sees the new name.</p>
        )}
      </form>
      {failure !== null && <Failure error={failure} />}
    </Modal>
  );
}

function DeleteFolder({
  account,
  folder,
  onClose,
}: {
  account: AccountView;
  folder: FolderView;
  onClose(deleted?: FolderView): void;
}) {
  const api = useMailApi();
  const toasts = useToasts();
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const label = folderLabel(folder);
  const onServer = folder.kind === 'server' && account.mode === 'imap';

  async function remove() {
    setBusy(true);
    setFailure(null);
    try {
      await api.deleteFolder({ folderId: folder.id });
      toasts.show({ kind: 'success', title: `Folder ${label} deleted.` });
      onClose(folder);
    } catch (caught) {
      setFailure(caught);
      setBusy(false);
    }
  }

  return (
    <Modal
      title={`Delete “${label}”?`}
      size="small"
      onClose={() => onClose()}
      footer={
        <>
          <button type="button" className="button" onClick={() => onClose()} autoFocus>
            Keep it
          </button>
          <button type="button" className="button button--danger" onClick={() => void remove()} disabled={busy}>
            Delete folder
          </button>
        </>
      }
    >
      <p>
        {onServer
          ? `The folder and ${plural(folder.total, 'message', 'messages')} in it are deleted on the server, for every device.`
          : `The folder and ${plural(folder.total, 'message', 'messages')} in it are deleted from this computer.`}
      </p>
      {failure !== null && <Failure error={failure} />}
    </Modal>
  );
}
