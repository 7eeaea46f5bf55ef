/** The reader's actions, each with its keyboard shortcut named for assistive technology. */
import type { FolderView, MessageDetail, MessageSummary } from '../../../../shared/model';
import type { MailActions } from '../../app/mail-actions';
import { Modal } from '../../components/dialog';
import { plural } from '../../components/format';
import { Icon, type IconName } from '../../components/icons';
import { folderLabel } from '../folders/folder-tree';

/** A folder chooser that acts at once: "Move to…", "Copy to…". Local folders say so. */
export function FolderPicker({
  icon,
  label,
  placeholder,
  targets,
  onChoose,
  iconOnly = false,
}: {
  icon: IconName;
  label: string;
  placeholder: string;
  targets: FolderView[];
  onChoose(folder: FolderView): void;
  /** Only the icon shows (the menu still lists the folders), so the toolbar stays on one line. */
  iconOnly?: boolean;
}) {
  return (
    <label className={`tool-select ${iconOnly ? 'tool-select--icon' : ''}`} title={label}>
      <Icon name={icon} />
      <span className="visually-hidden">{label}</span>
      <select
        value=""
        onChange={(event) => {
          const folder = targets.find((candidate) => candidate.id === event.target.value);
          if (folder !== undefined) onChoose(folder);
        }}
      >
        <option value="" disabled>
          {placeholder}
        </option>
        {targets.map((folder) => (
          <option key={folder.id} value={folder.id}>
            {folder.kind === 'local' ? `${folderLabel(folder)} (this computer)` : folderLabel(folder)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** POP3: deleting the copy left on the server as well needs a word of confirmation: it cannot be undone. */
export function DeleteFromServerDialog({
  messages,
  onCancel,
  onConfirm,
}: {
  messages: MessageSummary[];
  onCancel(): void;
  onConfirm(): void;
}) {
  return (
    <Modal
      title={
        messages.length === 1
          ? 'Delete here and on the server?'
          : `Delete ${plural(messages.length, 'message', 'messages')} here and on the server?`
      }
      size="small"
      onClose={onCancel}
      footer={
        <>
          <button type="button" className="button" onClick={onCancel} autoFocus>
            Cancel
          </button>
          <button type="button" className="button button--danger" onClick={onConfirm}>
            Delete everywhere
          </button>
        </>
      }
    >
      <p>
        The copy on this computer and the copy left on the server are both deleted. Other computers that download this
        mailbox will not get {messages.length === 1 ? 'it' : 'them'} any more.
      </p>
    </Modal>
  );
}

function ToolButton({
  icon,
  label,
  shortcut,
  onClick,
  disabled,
  danger,
  iconOnly,
}: {
  icon: IconName;
  label: string;
  shortcut?: string;
  onClick(): void;
  disabled?: boolean;
  danger?: boolean;
  /** Secondary actions show their name as a tooltip only, so the toolbar stays on one line. */
  iconOnly?: boolean;
}) {
  return (
    <button
      type="button"
      className={`tool-button ${danger ? 'tool-button--danger' : ''} ${iconOnly ? 'tool-button--icon' : ''}`}
      onClick={onClick}
      disabled={disabled}
      aria-keyshortcuts={shortcut}
      title={shortcut === undefined ? label : `${label} (${shortcut})`}
    >
      <Icon name={icon} />
      <span className={iconOnly ? 'visually-hidden' : 'tool-button__label'}>{label}</span>
    </button>
  );
}

export function ReaderToolbar({
  message,
  detail,
  actions,
}: {
  message: MessageSummary;
  detail: MessageDetail | null;
  actions: MailActions;
}) {
  const unread = !message.flags.includes('\\Seen');
  const targets = actions.moveTargets(message.accountId).filter((folder) => folder.id !== message.folderId);
  return (
    <div className="reader-toolbar" role="toolbar" aria-label="Message actions">
      <ToolButton
        icon="reply"
        label="Reply"
        shortcut="R"
        disabled={detail === null}
        onClick={() => detail && actions.reply(detail, false)}
      />
      <ToolButton
        icon="replyAll"
        label="Reply all"
        shortcut="A"
        disabled={detail === null}
        onClick={() => detail && actions.reply(detail, true)}
      />
      <ToolButton
        icon="forward"
        label="Forward"
        shortcut="F"
        disabled={detail === null}
        onClick={() => detail && actions.forward(detail)}
      />
      <span className="reader-toolbar__gap" />
      <ToolButton icon="archive" label="Archive" shortcut="E" onClick={() => actions.archive([message])} />
      <ToolButton icon="trash" label="Delete" shortcut="#" danger onClick={() => actions.remove([message])} />
      <FolderPicker
        icon="move"
        label="Move to folder"
        placeholder="Move to…"
        targets={targets}
        onChoose={(folder) => actions.move([message], folder)}
      />
      <FolderPicker
        icon="copy"
        label="Copy to folder"
        placeholder="Copy to…"
        targets={targets}
        onChoose={(folder) => actions.copy([message], folder)}
        iconOnly
      />
      <span className="reader-toolbar__gap" />
      <ToolButton
        icon="mailUnread"
        label={unread ? 'Mark as read' : 'Mark as unread'}
        iconOnly
        onClick={() => actions.setRead([message], unread)}
      />
      {message.residency === 'server' && (
        <ToolButton
          icon="download"
          label="Download to this computer"
          iconOnly
          onClick={() => actions.download([message])}
        />
      )}
      <ToolButton icon="source" label="View source" iconOnly onClick={() => actions.viewSource(message)} />
    </div>
  );
}
