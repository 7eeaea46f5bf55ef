/** One row of the message list: who, what, when, and where it lives. */
import { memo, type DragEvent, type MouseEvent } from 'react';
import type { Address } from '../../../../shared/model';
import { Icon } from '../../components/icons';
import { formatAddress, formatListDate } from '../../components/format';
import { ResidencyBadge } from '../../components/residency-badge';
import type { ListEntry } from './row-source';

export const ROW_HEIGHT_PX = 80;

/** Who sent mail and drafts go to, as the list names them. */
export function formatRecipients(to: readonly Address[]): string {
  return to.length === 0 ? 'To: (no recipients)' : `To: ${to.map((address) => formatAddress(address)).join(', ')}`;
}

export function rowElementId(listId: string, index: number): string {
  return `${listId}-row-${index}`;
}

/** Memoized: while scrolling, only rows that enter the screen render; the others keep their DOM. */
export const MessageRow = memo(function MessageRow({
  listId,
  index,
  total,
  entry,
  selected,
  cursor,
  top,
  showAccount,
  showRecipients,
  onPointer,
  onToggleThread,
  onDragStart,
}: {
  listId: string;
  index: number;
  total: number;
  entry: ListEntry | undefined;
  selected: boolean;
  cursor: boolean;
  top: number;
  showAccount: string | null;
  showRecipients: boolean;
  onPointer(index: number, event: MouseEvent): void;
  onToggleThread(key: string): void;
  onDragStart(index: number, event: DragEvent): void;
}) {
  const style = { transform: `translateY(${top}px)`, height: ROW_HEIGHT_PX };
  if (entry === undefined) {
    return (
      <div
        id={rowElementId(listId, index)}
        role="option"
        aria-selected={false}
        aria-posinset={index + 1}
        aria-setsize={total}
        aria-busy="true"
        aria-label="Loading…"
        className="message-row message-row--placeholder"
        style={style}
      >
        <span className="skeleton skeleton--short" />
        <span className="skeleton" />
        <span className="skeleton skeleton--long" />
      </div>
    );
  }
  const { message, thread, depth } = entry;
  const unread = !message.flags.includes('\\Seen');
  const flagged = message.flags.includes('\\Flagged');
  const classes = [
    'message-row',
    unread ? 'message-row--unread' : '',
    selected ? 'message-row--selected' : '',
    cursor ? 'message-row--cursor' : '',
    depth > 0 ? 'message-row--nested' : '',
  ].join(' ');
  return (
    <div
      id={rowElementId(listId, index)}
      role="option"
      aria-selected={selected}
      aria-posinset={index + 1}
      aria-setsize={total}
      aria-expanded={thread === null ? undefined : thread.expanded}
      className={classes}
      style={style}
      onMouseDown={(event) => {
        // Shift-click must not select text; the list keeps focus for the keyboard.
        if (event.shiftKey) event.preventDefault();
      }}
      onClick={(event) => onPointer(index, event)}
      draggable
      onDragStart={(event) => onDragStart(index, event)}
    >
      <span className="message-row__marker" aria-hidden="true">
        {unread && <span className="unread-dot" />}
      </span>
      <div className="message-row__body">
        <div className="message-row__line">
          <span className="message-row__from">
            {showRecipients ? formatRecipients(message.to) : formatAddress(message.from)}
          </span>
          {thread !== null && (
            <button
              type="button"
              tabIndex={-1}
              className="thread-count"
              aria-label={`${thread.size} messages in this conversation; ${thread.expanded ? 'collapse' : 'expand'}`}
              onClick={(event) => {
                event.stopPropagation();
                onToggleThread(thread.key);
              }}
            >
              {thread.size}
              <Icon name={thread.expanded ? 'chevronDown' : 'chevronRight'} size={12} />
            </button>
          )}
          <time className="message-row__date" dateTime={message.date ?? undefined}>
            {formatListDate(message.date)}
          </time>
        </div>
        <div className="message-row__line">
          <span className="message-row__subject">{message.subject || '(no subject)'}</span>
          {message.hasAttachments && (
            <span className="message-row__icon" title="Has attachments">
              <Icon name="attachment" size={14} label="Has attachments" />
            </span>
          )}
          {flagged && (
            <span className="message-row__flag" title="Flagged">
              <span className="visually-hidden">Flagged</span>⚑
            </span>
          )}
        </div>
        <div className="message-row__line message-row__line--meta">
          <span className="message-row__preview">
            {showAccount !== null && <span className="message-row__account">{showAccount} · </span>}
            {message.preview}
          </span>
          <ResidencyBadge residency={message.residency} compact={false} />
        </div>
      </div>
      {unread && <span className="visually-hidden">Unread.</span>}
    </div>
  );
});
