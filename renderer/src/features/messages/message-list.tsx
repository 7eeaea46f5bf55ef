/**
 * The virtualized message list: renders only the rows on screen (a folder of 100,000 messages is
 * a few dozen DOM nodes), asks its source for the pages it shows, and keeps the selection:
 * click, Ctrl/Cmd-click to add, Shift-click or Shift+arrows for a range, keyboard throughout.
 * ARIA: a multi-selectable listbox whose options know their position in the whole folder.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import {
  forwardRef,
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useReducer,
  useRef,
  useState,
  type DragEvent,
  type KeyboardEvent,
  type MouseEvent,
} from 'react';
import type { MessageSummary } from '../../../../shared/model';
import { MESSAGES_DRAG_TYPE } from './drag';
import { MessageRow, ROW_HEIGHT_PX, rowElementId } from './message-row';
import type { ListEntry, RowSource } from './row-source';

/** Range selections and "select all" stop here, so one keystroke cannot pull 100,000 rows. */
export const MAXIMUM_SELECTION = 10_000;
const OVERSCAN_ROWS = 10;

export interface MessageListHandle {
  focus(): void;
  /** Moves the cursor (j/k, arrows) and selects the message there. */
  move(delta: number): void;
  /** After a delete or move: select what takes the place of the removed messages. */
  advanceAfterRemoval(ids: string[]): void;
}

export interface MessageListProps {
  source: RowSource;
  label: string;
  onSelectionChange(messages: MessageSummary[]): void;
  /** Enter or double-click: read the message (the reader takes focus). */
  onOpen(message: MessageSummary): void;
  accountLabel(accountId: string): string | null;
  /** Sent mail and drafts: each row names its recipients rather than its sender. */
  showRecipients?: boolean;
  /** Rows dragged towards a folder: the selection when a selected row is dragged, else that row. */
  onDragMessages?(messages: MessageSummary[]): void;
}

interface Selection {
  ids: Map<string, MessageSummary>;
  cursor: number | null;
  anchor: number | null;
}

const EMPTY_SELECTION: Selection = { ids: new Map(), cursor: null, anchor: null };

function only(entry: ListEntry, index: number): Selection {
  return { ids: new Map([[entry.message.id, entry.message]]), cursor: index, anchor: index };
}

export const MessageList = forwardRef<MessageListHandle, MessageListProps>(function MessageList(
  { source, label, onSelectionChange, onOpen, accountLabel, showRecipients = false, onDragMessages },
  handle,
) {
  const listId = useRef(`message-list-${Math.random().toString(36).slice(2)}`).current;
  const scrollElement = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((count: number) => count + 1, 0);
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  /** A row to select as soon as it has loaded (End on an unloaded page, advance after delete). */
  const pending = useRef<{ index: number; skip: Set<string> } | null>(null);

  useEffect(() => source.subscribe(rerender), [source]);
  useEffect(() => {
    setSelection(EMPTY_SELECTION);
    pending.current = null;
    scrollElement.current?.scrollTo({ top: 0 });
  }, [source]);

  const total = source.total() ?? 0;
  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scrollElement.current,
    estimateSize: () => ROW_HEIGHT_PX,
    overscan: OVERSCAN_ROWS,
  });
  const items = virtualizer.getVirtualItems();
  const first = items.length > 0 ? items[0].index : 0;
  const last = items.length > 0 ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (total > 0) source.want(first, last);
  }, [source, first, last, total]);

  // Resolve a pending selection once its row is there.
  const pendingTarget = pending.current;
  useEffect(() => {
    const target = pending.current;
    if (target === null) return;
    if (total === 0) {
      pending.current = null;
      setSelection(EMPTY_SELECTION);
      return;
    }
    const index = Math.min(target.index, total - 1);
    const entry = source.row(index);
    if (entry === undefined) {
      source.want(index, index);
      return;
    }
    if (target.skip.has(entry.message.id)) return;
    pending.current = null;
    setSelection(only(entry, index));
  });

  const selected = selection.ids;
  // Before the browser paints: a key pressed right after the row shows as selected (j/k then #)
  // must act on that row, not on the one the shell heard of before.
  useLayoutEffect(() => {
    onSelectionChange([...selected.values()]);
    // Only a new selection is news; a new callback identity is not.
  }, [selected]);

  const scrollTo = useCallback((index: number) => virtualizer.scrollToIndex(index, { align: 'auto' }), [virtualizer]);

  const selectIndex = useCallback(
    (index: number) => {
      if (total === 0) return;
      const bounded = Math.max(0, Math.min(total - 1, index));
      scrollTo(bounded);
      const entry = source.row(bounded);
      if (entry === undefined) {
        pending.current = { index: bounded, skip: new Set() };
        setSelection((previous) => ({ ...previous, cursor: bounded, anchor: bounded }));
        source.want(bounded, bounded);
        rerender();
        return;
      }
      setSelection(only(entry, bounded));
    },
    [scrollTo, source, total],
  );

  const selectRange = useCallback(
    async (anchor: number, index: number) => {
      const start = Math.min(anchor, index);
      const end = Math.min(Math.max(anchor, index), start + MAXIMUM_SELECTION - 1);
      const rows = await source.rowsBetween(start, end);
      setSelection({ ids: new Map(rows.map((row) => [row.message.id, row.message])), cursor: index, anchor });
    },
    [source],
  );

  const move = useCallback(
    (delta: number, extend = false) => {
      const from = selection.cursor ?? (delta > 0 ? -1 : total);
      const index = Math.max(0, Math.min(total - 1, from + delta));
      if (extend && selection.anchor !== null) {
        scrollTo(index);
        void selectRange(selection.anchor, index);
      } else selectIndex(index);
    },
    [selection, total, scrollTo, selectRange, selectIndex],
  );

  useImperativeHandle(
    handle,
    () => ({
      focus: () => scrollElement.current?.focus(),
      move: (delta) => move(delta),
      advanceAfterRemoval(ids) {
        if (selection.cursor === null) return;
        pending.current = { index: selection.cursor, skip: new Set(ids) };
        rerender();
      },
    }),
    [move, selection.cursor],
  );

  function handlePointer(index: number, event: MouseEvent) {
    const entry = source.row(index);
    if (entry === undefined) return;
    scrollElement.current?.focus({ preventScroll: true });
    if (event.shiftKey && selection.anchor !== null) {
      void selectRange(selection.anchor, index);
    } else if (event.metaKey || event.ctrlKey) {
      setSelection((previous) => {
        const ids = new Map(previous.ids);
        if (ids.has(entry.message.id)) ids.delete(entry.message.id);
        else ids.set(entry.message.id, entry.message);
        return { ids, cursor: index, anchor: index };
      });
    } else {
      setSelection(only(entry, index));
      if (event.detail === 2) onOpen(entry.message);
    }
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const page = Math.max(
      1,
      Math.floor((scrollElement.current?.clientHeight ?? ROW_HEIGHT_PX * 10) / ROW_HEIGHT_PX) - 1,
    );
    const cursorEntry = selection.cursor === null ? undefined : source.row(selection.cursor);
    const handled = (() => {
      switch (event.key) {
        case 'ArrowDown':
          move(1, event.shiftKey);
          return true;
        case 'ArrowUp':
          move(-1, event.shiftKey);
          return true;
        case 'PageDown':
          move(page, event.shiftKey);
          return true;
        case 'PageUp':
          move(-page, event.shiftKey);
          return true;
        case 'Home':
          if (event.shiftKey && selection.anchor !== null) void selectRange(selection.anchor, 0);
          else selectIndex(0);
          scrollTo(0);
          return true;
        case 'End':
          if (event.shiftKey && selection.anchor !== null) void selectRange(selection.anchor, total - 1);
          else selectIndex(total - 1);
          scrollTo(total - 1);
          return true;
        case ' ':
          if (cursorEntry === undefined || selection.cursor === null) return false;
          setSelection((previous) => {
            const ids = new Map(previous.ids);
            if (ids.has(cursorEntry.message.id)) ids.delete(cursorEntry.message.id);
            else ids.set(cursorEntry.message.id, cursorEntry.message);
            return { ...previous, ids };
          });
          return true;
        case 'Enter':
          if (cursorEntry === undefined) return false;
          onOpen(cursorEntry.message);
          return true;
        case 'ArrowRight':
        case 'ArrowLeft': {
          const thread = cursorEntry?.thread;
          if (thread === null || thread === undefined || source.toggleThread === undefined) return false;
          if (thread.expanded === (event.key === 'ArrowLeft')) source.toggleThread(thread.key);
          return true;
        }
        case 'a':
          if (!(event.ctrlKey || event.metaKey) || total === 0) return false;
          void selectRange(0, total - 1);
          return true;
        case 'Escape':
          if (selected.size === 0) return false;
          setSelection(EMPTY_SELECTION);
          return true;
        default:
          return false;
      }
    })();
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  }

  // Stable callbacks for the memoized rows; they call the latest handlers.
  const latestPointer = useRef(handlePointer);
  useLayoutEffect(() => {
    latestPointer.current = handlePointer;
  });
  const onPointer = useCallback((index: number, event: MouseEvent) => latestPointer.current(index, event), []);
  const onToggleThread = useCallback((key: string) => source.toggleThread?.(key), [source]);
  const latestDrag = useRef<(index: number, event: DragEvent) => void>(() => undefined);
  useLayoutEffect(() => {
    latestDrag.current = (index, event) => {
      const entry = source.row(index);
      if (entry === undefined) {
        event.preventDefault();
        return;
      }
      const messages = selected.has(entry.message.id) ? [...selected.values()] : [entry.message];
      event.dataTransfer.effectAllowed = 'copyMove';
      event.dataTransfer.setData(MESSAGES_DRAG_TYPE, JSON.stringify(messages.map((message) => message.id)));
      event.dataTransfer.setData('text/plain', messages.map((message) => message.subject).join('\n'));
      onDragMessages?.(messages);
    };
  });
  const onDragStart = useCallback((index: number, event: DragEvent) => latestDrag.current(index, event), []);

  const activeDescendant =
    selection.cursor !== null && items.some((item) => item.index === selection.cursor)
      ? rowElementId(listId, selection.cursor)
      : undefined;

  return (
    <div
      ref={scrollElement}
      className="message-list"
      role="listbox"
      aria-label={label}
      aria-multiselectable="true"
      aria-activedescendant={activeDescendant}
      aria-busy={source.total() === null || pendingTarget !== null}
      tabIndex={0}
      onKeyDown={onKeyDown}
    >
      {/* While the list scrolls, rows take no pointer events: the rows sliding under a still mouse
          would otherwise change :hover, be hit-tested and get pointerover/out on every frame. */}
      <div
        className="message-list__canvas"
        style={{
          height: virtualizer.getTotalSize(),
          pointerEvents: virtualizer.isScrolling ? 'none' : undefined,
        }}
      >
        {items.map((item) => {
          const entry = source.row(item.index);
          return (
            <MessageRow
              key={item.key}
              listId={listId}
              index={item.index}
              total={total}
              entry={entry}
              selected={entry !== undefined && selected.has(entry.message.id)}
              cursor={selection.cursor === item.index}
              top={item.start}
              showAccount={entry === undefined ? null : accountLabel(entry.message.accountId)}
              showRecipients={showRecipients}
              onPointer={onPointer}
              onToggleThread={onToggleThread}
              onDragStart={onDragStart}
            />
          );
        })}
      </div>
    </div>
  );
});
