/**
 * The mail window: sidebar, message list and reader (or the composer, the outbox, "Where is my
 * mail?", an account's settings). It owns what is on screen and what is selected, implements the
 * message actions once for every entry point (buttons, keyboard), and renders from the service's
 * events: it never edits the service's data by hand.
 */
import { useCallback, useMemo, useRef, useState } from 'react';
import type {
  AccountView,
  ConnectivityState,
  FolderView,
  MessageDetail,
  MessageSummary,
  SyncProgress,
} from '../../../shared/model';
import { toErrorPayload } from '../../../shared/errors';
import { useMailApi } from '../api/service-context';
import { useMailEvent } from '../api/use-mail-event';
import { plural } from '../components/format';
import { useToasts } from '../components/toast';
import { Composer } from '../features/composer/composer';
import { forwardDraft, newDraft, replyDraft, type ComposeDraft } from '../features/composer/compose-draft';
import { OutboxView } from '../features/composer/outbox-view';
import { isDraft, openSavedDraft, useComposeRequests } from '../features/composer/compose-requests';
import { archiveFolder, inboxFolder } from '../features/folders/folder-tree';
import { FolderDialogView, type FolderDialog } from '../features/folders/folder-dialogs';
import { Sidebar, type FolderDrop, type View } from '../features/folders/sidebar';
import { useFolders } from '../features/folders/use-folders';
import type { MessageListHandle } from '../features/messages/message-list';
import { MessagesPane, type ListTarget } from '../features/messages/messages-pane';
import { RawSourceDialog } from '../features/reader/raw-source-dialog';
import { Reader } from '../features/reader/reader';
import { htmlToText } from '../features/reader/sanitize';
import { SwitchModeDialog } from '../features/residency/switch-mode-dialog';
import { WhereIsMyMail } from '../features/residency/where-is-my-mail';
import { AccountSettingsView } from '../features/settings/account-settings';
import { HelpOverlay } from '../features/shortcuts/help-overlay';
import { useShortcuts } from '../features/shortcuts/shortcuts';
import { announceNewMail } from '../features/status/new-mail';
import type { MailActions } from './mail-actions';

/** Failures that mean the network or the server is away, not that a setting is wrong. */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_REFUSED',
  'HOST_NOT_FOUND',
  'TIMEOUT',
  'CONNECTION_LOST',
]);

/** How long a finished progress line stays, so "done" is seen rather than flickering away. */
const DONE_VISIBLE_MS = 1_500;

function bodyText(message: MessageDetail): string {
  const parts = message.parts ?? [];
  const text = parts.filter((part) => part.kind === 'text');
  if (text.length > 0) return text.map((part) => part.content).join('\n\n');
  return parts
    .filter((part) => part.kind === 'html')
    .map((part) => htmlToText(part.content))
    .join('\n\n');
}

function groupByAccount(messages: MessageSummary[]): Map<string, MessageSummary[]> {
  const groups = new Map<string, MessageSummary[]>();
  for (const message of messages) groups.set(message.accountId, [...(groups.get(message.accountId) ?? []), message]);
  return groups;
}

export function AppShell({ accounts, onAddAccount }: { accounts: AccountView[]; onAddAccount(): void }) {
  const api = useMailApi();
  const toasts = useToasts();
  const folders = useFolders(accounts);
  const [view, setView] = useState<View>({ kind: 'unified' });
  const [selection, setSelection] = useState<MessageSummary[]>([]);
  const [composer, setComposer] = useState<ComposeDraft | null>(null);
  const [helpOpen, setHelpOpen] = useState(false);
  const [switching, setSwitching] = useState<AccountView | null>(null);
  const [source, setSource] = useState<MessageSummary | null>(null);
  const [folderDialog, setFolderDialog] = useState<FolderDialog | null>(null);
  const [readerFocus, setReaderFocus] = useState(0);
  const [connectivity, setConnectivity] = useState<Record<string, ConnectivityState>>({});
  const [progress, setProgress] = useState<Record<string, SyncProgress>>({});
  const listRef = useRef<MessageListHandle | null>(null);
  const searchRef = useRef<HTMLInputElement | null>(null);

  useMailEvent('connectivity', ({ accountId, state }) =>
    setConnectivity((previous) => ({ ...previous, [accountId]: state })),
  );
  useMailEvent('accountsChanged', () => setConnectivity({}));
  useMailEvent('syncProgress', (item) => {
    setProgress((previous) => ({ ...previous, [item.accountId]: item }));
    // A phase that reached its total (a mode switch reports no separate "done") goes too, unless
    // newer progress replaced it meanwhile.
    if (item.phase === 'done' || (item.total > 0 && item.done >= item.total)) {
      setTimeout(
        () =>
          setProgress((previous) => {
            if (previous[item.accountId] !== item) return previous;
            const next = { ...previous };
            delete next[item.accountId];
            return next;
          }),
        DONE_VISIBLE_MS,
      );
    }
  });

  const accountById = useMemo(() => new Map(accounts.map((account) => [account.id, account])), [accounts]);
  const stateOf = useCallback(
    (account: AccountView) => connectivity[account.id] ?? account.connectivity,
    [connectivity],
  );

  useMailEvent('newMail', (payload) => {
    const account = accountById.get(payload.accountId);
    announceNewMail(payload, account?.name ?? 'your account', toasts.show, () =>
      setView({ kind: 'folder', accountId: payload.accountId, folderId: payload.folderId }),
    );
  });

  const navigate = useCallback((next: View) => {
    setView(next);
    setSelection([]);
    setComposer(null);
  }, []);

  const ownAddresses = useMemo(() => accounts.map((account) => account.email), [accounts]);
  const defaultAccountId = (): string =>
    view.kind === 'folder' || view.kind === 'settings' ? view.accountId : (selection[0]?.accountId ?? accounts[0].id);

  useComposeRequests(setComposer, () => (accounts.length > 0 ? defaultAccountId() : null));

  /** Opening a message shows it in the reader; a saved draft opens in the composer instead. */
  const openMessage = (message: MessageSummary | undefined) => {
    if (message === undefined) return;
    const role = folders.get(message.accountId).folders?.find((folder) => folder.id === message.folderId)?.role ?? null;
    if (!isDraft(message, role)) {
      setReaderFocus((value) => value + 1);
      return;
    }
    openSavedDraft(api, message.id).then(setComposer, (error: unknown) =>
      toasts.showError('The draft could not be opened.', error),
    );
  };

  const actions: MailActions = {
    compose: (to) => setComposer(newDraft(defaultAccountId(), to)),
    reply: (message, all) => setComposer(replyDraft(message, { all, ownAddresses, bodyText: bodyText(message) })),
    forward: (message) => setComposer(forwardDraft(message, { bodyText: bodyText(message) })),
    async remove(messages, options = {}) {
      if (messages.length === 0) return;
      listRef.current?.advanceAfterRemoval(messages.map((message) => message.id));
      try {
        await api.deleteMessages({
          messageIds: messages.map((message) => message.id),
          ...(options.fromServer === true ? { fromServer: true } : {}),
        });
        const what = messages.length === 1 ? 'Message' : plural(messages.length, 'message', 'messages');
        toasts.show({
          kind: 'success',
          title: options.fromServer === true ? `${what} deleted here and on the server.` : `${what} deleted.`,
        });
      } catch (error) {
        toasts.showError(
          messages.length === 1 ? 'The message was not deleted.' : 'The messages were not deleted.',
          error,
        );
      }
    },
    async archive(messages) {
      for (const [accountId, group] of groupByAccount(messages)) {
        const account = accountById.get(accountId);
        const target = archiveFolder(folders.get(accountId).folders ?? []);
        if (target === null) {
          toasts.show({
            kind: 'error',
            title: `“${account?.name ?? 'This account'}” has no archive folder.`,
            body: 'Move the messages to a folder of your choice instead (Move to… in the reader).',
          });
          continue;
        }
        await actions.move(group, target);
      }
    },
    async move(messages, folder) {
      if (messages.length === 0) return;
      listRef.current?.advanceAfterRemoval(messages.map((message) => message.id));
      try {
        await api.moveMessages({ messageIds: messages.map((message) => message.id), folderId: folder.id });
        toasts.show({
          kind: 'success',
          title: `${plural(messages.length, 'message', 'messages')} moved to ${folder.name}.`,
        });
      } catch (error) {
        toasts.showError(`Could not move to ${folder.name}.`, error);
      }
    },
    async copy(messages, folder) {
      if (messages.length === 0) return;
      try {
        await api.copyMessages({ messageIds: messages.map((message) => message.id), folderId: folder.id });
        toasts.show({
          kind: 'success',
          title: `${plural(messages.length, 'message', 'messages')} copied to ${folder.name}.`,
        });
      } catch (error) {
        toasts.showError(`Could not copy to ${folder.name}.`, error);
      }
    },
    async setRead(messages, read) {
      try {
        await api.setFlags({
          messageIds: messages.map((message) => message.id),
          [read ? 'add' : 'remove']: ['\\Seen'],
        });
      } catch (error) {
        toasts.showError('The messages could not be marked.', error);
      }
    },
    async setFlagged(messages, flagged) {
      try {
        await api.setFlags({
          messageIds: messages.map((message) => message.id),
          [flagged ? 'add' : 'remove']: ['\\Flagged'],
        });
      } catch (error) {
        toasts.showError('The messages could not be flagged.', error);
      }
    },
    async download(messages) {
      try {
        await api.downloadMessages({ messageIds: messages.map((message) => message.id) });
        toasts.show({
          kind: 'info',
          title: `Downloading ${plural(messages.length, 'message', 'messages')} to this computer.`,
        });
      } catch (error) {
        // Cancelled by the user: the sync status says how far it got.
        if (toErrorPayload(error).code !== 'CANCELLED') toasts.showError('The download did not start.', error);
      }
    },
    viewSource: (message) => setSource(message),
    moveTargets: (accountId) => folders.get(accountId).folders ?? [],
    account: (accountId) => accountById.get(accountId) ?? null,
  };

  /** Messages being dragged from the list; a folder of their account accepts them. */
  const dragged = useRef<MessageSummary[]>([]);
  const drop: FolderDrop = {
    accepts: (folder) =>
      dragged.current.length > 0 &&
      dragged.current.every((message) => message.accountId === folder.accountId && message.folderId !== folder.id),
    drop(folder, copy) {
      const messages = dragged.current;
      dragged.current = [];
      if (copy) void actions.copy(messages, folder);
      else void actions.move(messages, folder);
    },
  };

  /** Reply and forward need the body: fetched here for the keyboard (the reader has its own copy). */
  const withDetail = (run: (detail: MessageDetail) => void) => {
    if (selection.length !== 1) return;
    const [message] = selection;
    void (async () => {
      try {
        run(await api.getMessage({ messageId: message.id }));
      } catch (error) {
        toasts.showError('The message could not be opened.', error);
      }
    })();
  };

  const listVisible = view.kind === 'folder' || view.kind === 'unified';
  useShortcuts({
    next: () => listVisible && listRef.current?.move(1),
    previous: () => listVisible && listRef.current?.move(-1),
    open: () => selection.length === 1 && openMessage(selection[0]),
    reply: () => withDetail((detail) => actions.reply(detail, false)),
    'reply-all': () => withDetail((detail) => actions.reply(detail, true)),
    forward: () => withDetail((detail) => actions.forward(detail)),
    compose: () => actions.compose(),
    delete: () => void actions.remove(selection),
    archive: () => void actions.archive(selection),
    search: () => {
      if (!listVisible) navigate({ kind: 'unified' });
      // The pane may only now be mounting.
      setTimeout(() => searchRef.current?.focus(), 0);
    },
    help: () => setHelpOpen(true),
  });

  let target: ListTarget | null = null;
  if (view.kind === 'folder') {
    const folder = folders.get(view.accountId).folders?.find((candidate) => candidate.id === view.folderId);
    const account = accountById.get(view.accountId);
    if (folder !== undefined && account !== undefined) {
      target = { kind: 'folder', accountId: account.id, accountName: account.name, folder };
    }
  } else if (view.kind === 'unified') {
    const inboxes = accounts
      .map((account) => inboxFolder(folders.get(account.id).folders ?? []))
      .filter((folder): folder is FolderView => folder !== null);
    target = { kind: 'unified', inboxes };
  }
  const unifiedReady =
    view.kind !== 'unified' ||
    accounts.every((account) => folders.get(account.id).folders !== null || folders.get(account.id).error !== null);

  let content;
  if (view.kind === 'outbox') {
    content = <OutboxView accountName={(id) => accountById.get(id)?.name ?? 'an account that was removed'} />;
  } else if (view.kind === 'residency') {
    content = (
      <WhereIsMyMail
        accounts={accounts}
        accountId={view.accountId}
        onChooseAccount={(accountId) => setView({ kind: 'residency', accountId })}
        onSwitchMode={setSwitching}
      />
    );
  } else if (view.kind === 'settings') {
    const account = accountById.get(view.accountId);
    content =
      account === undefined ? null : (
        <AccountSettingsView
          key={account.id}
          account={account}
          folders={folders.get(account.id).folders ?? []}
          onSwitchMode={setSwitching}
          onRemoved={() => navigate({ kind: 'unified' })}
        />
      );
  } else {
    const accountForList = view.kind === 'folder' ? accountById.get(view.accountId) : undefined;
    content = (
      <>
        {target !== null && unifiedReady ? (
          <MessagesPane
            key={view.kind === 'folder' ? view.folderId : 'unified'}
            ref={searchRef}
            target={target}
            connectivity={accountForList === undefined ? null : stateOf(accountForList)}
            accountLabel={(accountId) =>
              view.kind === 'unified' && accounts.length > 1 ? (accountById.get(accountId)?.name ?? null) : null
            }
            searchAccountId={view.kind === 'folder' ? view.accountId : null}
            listRef={listRef}
            onSelectionChange={setSelection}
            onOpen={openMessage}
            onDragMessages={(messages) => {
              dragged.current = messages;
            }}
          />
        ) : (
          <main className="pane pane--messages" aria-label="Messages" id="messages">
            <p className="pane__placeholder">Loading folders…</p>
          </main>
        )}
        {composer !== null ? (
          <Composer
            key={`${composer.kind}-${composer.draftId ?? ''}-${composer.inReplyTo ?? ''}-${composer.subject}`}
            initial={composer}
            accounts={accounts}
            onClose={() => setComposer(null)}
            onSent={() => setComposer(null)}
          />
        ) : (
          <Reader
            selection={selection}
            actions={actions}
            connectivity={(accountId) => {
              const account = accountById.get(accountId);
              return account === undefined ? null : stateOf(account);
            }}
            focusRequest={readerFocus}
          />
        )}
      </>
    );
  }

  const wide = view.kind === 'outbox' || view.kind === 'residency' || view.kind === 'settings';
  return (
    <div className={`app-shell ${wide ? 'app-shell--wide' : ''}`}>
      <Sidebar
        accounts={accounts}
        folders={folders}
        view={view}
        connectivity={stateOf}
        progress={progress}
        onNavigate={navigate}
        onAddAccount={onAddAccount}
        onCompose={() => actions.compose()}
        onCheckMail={(account) =>
          void api.syncAccount({ accountId: account.id }).catch((error: unknown) => {
            // An account that worked before and now cannot reach its server is offline, not misconfigured.
            if (account.lastSyncAt !== null && UNREACHABLE_CODES.has(toErrorPayload(error).code)) {
              toasts.show({
                kind: 'info',
                title: `“${account.name}” cannot reach its server right now.`,
                body: 'What you do is kept here and sent to the server when the connection returns.',
              });
            } else toasts.showError(`Could not check “${account.name}”.`, error);
          })
        }
        onFolderDialog={setFolderDialog}
        drop={drop}
      />
      {content}
      {wide && composer !== null && (
        <div className="composer-floating">
          <Composer
            initial={composer}
            accounts={accounts}
            onClose={() => setComposer(null)}
            onSent={() => setComposer(null)}
          />
        </div>
      )}
      {helpOpen && <HelpOverlay onClose={() => setHelpOpen(false)} />}
      {source !== null && <RawSourceDialog message={source} onClose={() => setSource(null)} />}
      {folderDialog !== null && (
        <FolderDialogView
          dialog={folderDialog}
          onClose={(deleted) => {
            setFolderDialog(null);
            if (deleted !== undefined && view.kind === 'folder' && view.folderId === deleted.id) {
              navigate({ kind: 'unified' });
            }
          }}
        />
      )}
      {switching !== null && (
        <SwitchModeDialog
          account={switching}
          folders={folders.get(switching.id).folders ?? []}
          onClose={() => setSwitching(null)}
        />
      )}
    </div>
  );
}
