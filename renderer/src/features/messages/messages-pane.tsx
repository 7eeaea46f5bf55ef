/**
 * The middle pane: what is listed (a folder, the unified inbox, or search results), how (sort,
 * residency filter, conversations), and the list itself. Sources are created per question and
 * re-asked when the service says the messages changed.
 */
import { forwardRef, useEffect, useMemo, useState, type RefObject } from 'react';
import type { MessagePage } from '../../../../shared/api';
import { toErrorPayload } from '../../../../shared/errors';
import type {
  ConnectivityState,
  FolderView,
  MessageSummary,
  Residency,
  SortDirection,
  SortKey,
} from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { useMailEvent } from '../../api/use-mail-event';
import { useMailApi } from '../../api/service-context';
import { Icon } from '../../components/icons';
import { plural } from '../../components/format';
import { folderLabel } from '../folders/folder-tree';
import { ArraySource, MergedSource } from './merged-source';
import { MessageList, type MessageListHandle } from './message-list';
import { MessagePager } from './message-pager';
import type { RowSource } from './row-source';
import { ThreadedSource } from './threaded-source';
import { useDebounced } from './use-debounced';

const SEARCH_DEBOUNCE_MS = 250;
const SEARCH_RESULT_LIMIT = 500;
/** An expanded conversation is read in pages of this size, up to this many messages. */
const CONVERSATION_PAGE = 1_000;
const CONVERSATION_LIMIT = 10_000;

export type ListTarget =
  | { kind: 'folder'; accountId: string; accountName: string; folder: FolderView }
  | { kind: 'unified'; inboxes: FolderView[] };

interface ListOptions {
  sort: SortKey;
  direction: SortDirection;
  residency: Residency | null;
  threads: boolean;
}

const SORT_LABELS: Record<SortKey, string> = { date: 'Date', from: 'Sender', subject: 'Subject' };
const RESIDENCY_FILTER_LABELS: Record<Residency | 'all', string> = {
  all: 'Anywhere',
  server: 'Server only',
  local: 'Here only',
  both: 'In both places',
};
const RESIDENCY_EMPTY_TEXT: Record<Residency, string> = {
  server: 'only on the server',
  local: 'only on this computer',
  both: 'both on the server and on this computer',
};

function folderFetcher(
  fetchPage: (request: Parameters<ReturnType<typeof useMailApi>['listMessages']>[0]) => Promise<MessagePage>,
  folderId: string,
  options: ListOptions,
) {
  return (offset: number, limit: number) =>
    fetchPage({
      folderId,
      offset,
      limit,
      sort: options.sort,
      direction: options.direction,
      residency: options.residency,
    });
}

export interface MessagesPaneProps {
  target: ListTarget;
  connectivity: ConnectivityState | null;
  accountLabel(accountId: string): string | null;
  searchAccountId: string | null;
  listRef: RefObject<MessageListHandle | null>;
  onSelectionChange(messages: MessageSummary[]): void;
  onOpen(message: MessageSummary): void;
  onDragMessages(messages: MessageSummary[]): void;
}

export const MessagesPane = forwardRef<HTMLInputElement, MessagesPaneProps>(function MessagesPane(
  { target, connectivity, accountLabel, searchAccountId, listRef, onSelectionChange, onOpen, onDragMessages },
  searchRef,
) {
  const api = useMailApi();
  const [options, setOptions] = useState<ListOptions>({
    sort: 'date',
    direction: 'desc',
    residency: null,
    threads: false,
  });
  const [query, setQuery] = useState('');
  const [searchEverywhere, setSearchEverywhere] = useState(false);
  const settledQuery = useDebounced(query.trim(), SEARCH_DEBOUNCE_MS);
  const [searchSource, setSearchSource] = useState<{ key: string; source: RowSource } | null>(null);
  const [searchVersion, setSearchVersion] = useState(0);

  const folderIds = target.kind === 'folder' ? [target.folder.id] : target.inboxes.map((folder) => folder.id);
  const folderKey = folderIds.join(',');
  // Conversations are grouped by the service, for folders of any size.
  const threaded = options.threads && target.kind === 'folder';
  const title = target.kind === 'folder' ? folderLabel(target.folder) : 'All inboxes';

  const browseSource = useMemo<RowSource>(() => {
    const listMessages = (request: Parameters<typeof api.listMessages>[0]) => api.listMessages(request);
    if (target.kind === 'unified') {
      return new MergedSource(
        target.inboxes.map((folder) =>
          folderFetcher(listMessages, folder.id, { ...options, sort: 'date', direction: 'desc' }),
        ),
      );
    }
    const fetch = folderFetcher(listMessages, target.folder.id, options);
    if (threaded) {
      const folderId = target.folder.id;
      const scope = { folderId, residency: options.residency };
      return new ThreadedSource(
        (offset, limit) =>
          listMessages({ ...scope, offset, limit, sort: options.sort, direction: options.direction, threads: true }),
        async (threadId) => {
          const members: MessageSummary[] = [];
          for (let offset = 0; offset < CONVERSATION_LIMIT; offset += CONVERSATION_PAGE) {
            const page = await listMessages({ ...scope, threadId, offset, limit: CONVERSATION_PAGE });
            members.push(...page.items);
            if (page.items.length < CONVERSATION_PAGE || members.length >= page.total) break;
          }
          return members;
        },
      );
    }
    return new MessagePager(fetch);
    // A new source per question; the folder's counts changing is not a new question.
  }, [api, folderKey, options.sort, options.direction, options.residency, threaded, target.kind]);
  useEffect(() => () => browseSource.dispose(), [browseSource]);

  const searchScope = searchEverywhere ? null : searchAccountId;
  useEffect(() => {
    if (settledQuery === '') {
      setSearchSource(null);
      return;
    }
    let current = true;
    const key = `${settledQuery}\u0000${searchScope ?? '*'}`;
    const run = async () => {
      try {
        const results = await api.search({ query: settledQuery, accountId: searchScope, limit: SEARCH_RESULT_LIMIT });
        if (current) setSearchSource({ key, source: new ArraySource(results) });
      } catch (error) {
        if (current) setSearchSource({ key, source: new ArraySource([], toErrorPayload(error)) });
      }
    };
    void run();
    return () => {
      current = false;
    };
  }, [api, settledQuery, searchScope, searchVersion]);

  useMailEvent('messagesChanged', (payload) => {
    if (payload.folderIds.some((id) => folderIds.includes(id))) browseSource.invalidate();
    if (settledQuery !== '' && (searchScope === null || payload.accountId === searchScope)) {
      setSearchVersion((value) => value + 1);
    }
  });

  // The banner stays while reconnection attempts come and go ("connecting", then offline again),
  // so the list does not jump on every retry; it goes once the account is online (or needs the user).
  const [offlineBanner, setOfflineBanner] = useState(connectivity === 'offline');
  useEffect(() => {
    if (connectivity === 'offline') setOfflineBanner(true);
    else if (connectivity !== 'connecting') setOfflineBanner(false);
  }, [connectivity]);

  const searching = query.trim() !== '';
  const source = searching && searchSource !== null ? searchSource.source : browseSource;
  const [, setTick] = useState(0);
  useEffect(() => source.subscribe(() => setTick((value) => value + 1)), [source]);
  const total = source.total();
  const error = source.error();
  const listLabel = searching ? `Search results for “${query.trim()}”` : `Messages in ${title}`;
  const searchPending = searching && (settledQuery !== query.trim() || searchSource === null);
  const threadCounts = !searching && source instanceof ThreadedSource ? source.counts() : null;

  return (
    <main className="pane pane--messages" aria-label="Messages" id="messages">
      <header className="list-header">
        <div className="list-header__title-row">
          <h2 className="list-header__title">{searching ? 'Search' : title}</h2>
          <span className="list-header__count" aria-live="polite">
            {searchPending
              ? 'Searching…'
              : total === null
                ? ''
                : searching
                  ? plural(total, 'result', 'results')
                  : threadCounts !== null
                    ? `${plural(threadCounts.messages, 'message', 'messages')} in ${plural(threadCounts.threads, 'conversation', 'conversations')}`
                    : plural(total, 'message', 'messages')}
          </span>
        </div>
        <div className="search-box">
          <Icon name="search" size={16} />
          <input
            ref={searchRef}
            type="search"
            className="search-box__input"
            placeholder="Search mail"
            aria-label="Search mail"
            aria-keyshortcuts="/"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') {
                setQuery('');
                listRef.current?.focus();
              } else if (event.key === 'ArrowDown' || event.key === 'Enter') {
                event.preventDefault();
                listRef.current?.focus();
                listRef.current?.move(1);
              }
            }}
          />
          {searching && searchAccountId !== null && (
            <label className="search-box__scope">
              <input
                type="checkbox"
                checked={searchEverywhere}
                onChange={(event) => setSearchEverywhere(event.target.checked)}
              />
              All accounts
            </label>
          )}
        </div>
        {!searching && (
          <div className="list-toolbar" role="toolbar" aria-label="List options">
            <label className="select-chip">
              <Icon name="sort" size={14} />
              <span className="visually-hidden">Sort by</span>
              <select
                value={options.sort}
                disabled={target.kind === 'unified'}
                title={target.kind === 'unified' ? 'All inboxes are listed newest first' : undefined}
                onChange={(event) => {
                  const sort = event.target.value as SortKey;
                  // Dates read newest first; names and subjects alphabetically.
                  setOptions({ ...options, sort, direction: sort === 'date' ? 'desc' : 'asc' });
                }}
              >
                {(Object.keys(SORT_LABELS) as SortKey[]).map((key) => (
                  <option key={key} value={key}>
                    {SORT_LABELS[key]}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              className="chip"
              disabled={target.kind === 'unified'}
              onClick={() => setOptions({ ...options, direction: options.direction === 'desc' ? 'asc' : 'desc' })}
              aria-label={`Order: ${directionLabel(options)}. Change order`}
            >
              {directionLabel(options)}
            </button>
            <label className="select-chip">
              <Icon name="filter" size={14} />
              <span className="visually-hidden">Show messages stored</span>
              <select
                value={options.residency ?? 'all'}
                onChange={(event) =>
                  setOptions({
                    ...options,
                    residency: event.target.value === 'all' ? null : (event.target.value as Residency),
                  })
                }
              >
                {(Object.keys(RESIDENCY_FILTER_LABELS) as (Residency | 'all')[]).map((key) => (
                  <option key={key} value={key}>
                    {RESIDENCY_FILTER_LABELS[key]}
                  </option>
                ))}
              </select>
            </label>
            {target.kind === 'folder' && (
              <button
                type="button"
                className="chip"
                aria-pressed={threaded}
                title="Group messages into conversations"
                onClick={() => setOptions({ ...options, threads: !options.threads })}
              >
                <Icon name="threads" size={14} /> Conversations
              </button>
            )}
          </div>
        )}
      </header>
      {offlineBanner && (
        <p className="list-banner list-banner--offline" role="status">
          <Icon name="offline" size={16} /> Offline. What you do now is kept here and sent to the server when the
          connection returns.
        </p>
      )}
      {error !== null && (
        <div className="list-banner list-banner--error" role="alert">
          <Icon name="warning" size={16} />
          <span>
            {searching ? 'The search did not work. ' : 'The messages could not be listed. '}
            {describeError(error).title}
          </span>
          <button type="button" className="button button--small" onClick={() => source.invalidate()}>
            Try again
          </button>
        </div>
      )}
      {total === 0 && error === null ? (
        <div className="list-empty">
          <Icon name={searching ? 'search' : 'inbox'} size={32} />
          <p>
            {searching
              ? `Nothing matches “${query.trim()}”.`
              : target.kind === 'unified' && target.inboxes.length === 0
                ? 'No inbox to show yet: the folders of your accounts are not available.'
                : options.residency !== null
                  ? `No message in this folder is ${RESIDENCY_EMPTY_TEXT[options.residency]}.`
                  : 'No messages in this folder.'}
          </p>
        </div>
      ) : (
        <MessageList
          ref={listRef}
          source={source}
          label={listLabel}
          onSelectionChange={onSelectionChange}
          onOpen={onOpen}
          accountLabel={accountLabel}
          showRecipients={
            target.kind === 'folder' && (target.folder.role === 'sent' || target.folder.role === 'drafts')
          }
          onDragMessages={onDragMessages}
        />
      )}
    </main>
  );
});

function directionLabel(options: ListOptions): string {
  if (options.sort === 'date') return options.direction === 'desc' ? 'Newest first' : 'Oldest first';
  return options.direction === 'asc' ? 'A to Z' : 'Z to A';
}
