/** The reader's actions, each with its keyboard shortcut named for assistive technology. */
import type { MessageDetail, MessageSummary } from '../../../../shared/model';
import type { MailActions } from '../../app/mail-actions';
import { Icon, type IconName } from '../../components/icons';

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
      <label className="tool-select">
        <Icon name="move" />
        <span className="visually-hidden">Move to folder</span>
        <select
          value=""
          onChange={(event) => {
            const folder = targets.find((candidate) => candidate.id === event.target.value);
            if (folder !== undefined) actions.move([message], folder);
          }}
        >
          <option value="" disabled>
            Move to…
          </option>
          {targets.map((folder) => (
            <option key={folder.id} value={folder.id}>
              {folder.kind === 'local' ? `${folder.path} (this computer)` : folder.path}
            </option>
          ))}
        </select>
      </label>
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
