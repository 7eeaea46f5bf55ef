/**
 * Accounts and folders: the unified inbox, the outbox, "Where is my mail?", then each account
 * with its mode (IMAP/POP3), its connection state in words, its server folders and its folders on
 * this computer, with unread counts.
 */
import { useEffect, useRef, useState, type DragEvent, type ReactNode } from 'react';
import type { AccountView, ConnectivityState, FolderView, SyncProgress } from '../../../../shared/model';
import { describeError } from '../../api/error-text';
import { Icon, type IconName } from '../../components/icons';
import { formatCount } from '../../components/format';
import { Logo } from '../../app/logo';
import { providerName, SignInAgainButton } from '../accounts/sign-in-again';
import { SyncStatus } from '../status/sync-status';
import { ThemeToggle } from '../status/theme';
import { MESSAGES_DRAG_TYPE } from '../messages/drag';
import type { FolderDialog } from './folder-dialogs';
import { folderLabel, folderTree } from './folder-tree';
import type { FolderCache } from './use-folders';

export type View =
  | { kind: 'folder'; accountId: string; folderId: string }
  | { kind: 'unified' }
  | { kind: 'outbox' }
  | { kind: 'residency'; accountId: string | null }
  | { kind: 'settings'; accountId: string };

const MODE_LABELS = { imap: 'IMAP', pop3: 'POP3' } as const;

export const CONNECTIVITY_TEXT: Record<ConnectivityState, string> = {
  online: 'Online',
  offline: 'Offline',
  connecting: 'Connecting…',
  error: 'Cannot connect',
};

const ROLE_ICONS: Record<string, IconName> = {
  inbox: 'inbox',
  sent: 'sent',
  drafts: 'drafts',
  trash: 'trash',
  junk: 'junk',
  archive: 'archive',
  outbox: 'outbox',
};

/** Where messages dragged from the list may be dropped: a folder of their own account. */
export interface FolderDrop {
  /** True while messages that may go to `folder` are being dragged. */
  accepts(folder: FolderView): boolean;
  /** Ctrl (or Alt/Option) held: copy rather than move. */
  drop(folder: FolderView, copy: boolean): void;
}

function NavItem({
  icon,
  label,
  count,
  current,
  depth = 0,
  onSelect,
  hint,
  dropTarget,
  menu,
}: {
  icon: IconName;
  label: string;
  count?: number;
  current: boolean;
  depth?: number;
  onSelect(): void;
  hint?: string;
  dropTarget?: { accepts(): boolean; drop(copy: boolean): void };
  menu?: ReactNode;
}) {
  const [over, setOver] = useState(false);
  const carriesMessages = (event: DragEvent) => event.dataTransfer.types.includes(MESSAGES_DRAG_TYPE);
  const dropHandlers =
    dropTarget === undefined
      ? {}
      : {
          onDragOver(event: DragEvent) {
            if (!carriesMessages(event) || !dropTarget.accepts()) return;
            event.preventDefault();
            event.dataTransfer.dropEffect = event.ctrlKey || event.altKey ? 'copy' : 'move';
            setOver(true);
          },
          onDragLeave() {
            setOver(false);
          },
          onDrop(event: DragEvent) {
            setOver(false);
            if (!carriesMessages(event) || !dropTarget.accepts()) return;
            event.preventDefault();
            dropTarget.drop(event.ctrlKey || event.altKey);
          },
        };
  return (
    <li className={`nav-entry ${menu !== undefined ? 'nav-entry--with-menu' : ''}`}>
      <button
        type="button"
        className={`nav-item ${current ? 'nav-item--current' : ''} ${over ? 'nav-item--drop-target' : ''}`}
        aria-current={current ? 'page' : undefined}
        onClick={onSelect}
        title={hint}
        style={depth > 0 ? { paddingInlineStart: 8 + depth * 16 } : undefined}
        {...dropHandlers}
      >
        <Icon name={icon} size={16} />
        <span className="nav-item__label">{label}</span>
        {count !== undefined && count > 0 && (
          <span className="nav-item__count">
            {formatCount(count)}
            <span className="visually-hidden"> unread</span>
          </span>
        )}
      </button>
      {menu}
    </li>
  );
}

/** The "…" button beside a folder and its small menu: new folder inside, rename, export, delete. */
function FolderMenu({ folder, onChoose }: { folder: FolderView; onChoose(action: FolderAction): void }) {
  const [open, setOpen] = useState(false);
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (event: Event) => {
      if (!container.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('focusin', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('focusin', close);
    };
  }, [open]);
  // The inbox is where new mail arrives (RFC 3501 section 5.1): it cannot be renamed or deleted.
  const fixed = folder.role === 'inbox';
  const label = folderLabel(folder);
  const choose = (action: FolderAction) => {
    setOpen(false);
    onChoose(action);
  };
  return (
    <div
      className="folder-menu"
      ref={container}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && open) {
          event.stopPropagation();
          setOpen(false);
        }
      }}
    >
      <button
        type="button"
        className="icon-button icon-button--small folder-menu__button"
        aria-label={`Actions for folder ${label}`}
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen((value) => !value)}
      >
        <Icon name="more" size={16} />
      </button>
      {open && (
        <div className="menu" role="menu" aria-label={`Folder ${label}`}>
          {FOLDER_ACTIONS.map(({ action, icon, text, danger, keepsInbox }) => (
            <button
              key={action}
              type="button"
              role="menuitem"
              className={danger ? 'menu__item menu__item--danger' : 'menu__item'}
              autoFocus={action === 'create'}
              disabled={fixed && keepsInbox}
              onClick={() => choose(action)}
            >
              <Icon name={icon} size={14} /> {text}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

type FolderAction = 'create' | 'rename' | 'export' | 'delete';

/** The folder menu, in order; `keepsInbox`: not offered for the inbox (it cannot be renamed or deleted). */
const FOLDER_ACTIONS: ReadonlyArray<{
  action: FolderAction;
  icon: IconName;
  text: string;
  danger?: boolean;
  keepsInbox?: boolean;
}> = [
  { action: 'create', icon: 'plus', text: 'New folder inside…' },
  { action: 'rename', icon: 'pencil', text: 'Rename…', keepsInbox: true },
  { action: 'export', icon: 'download', text: 'Export…' },
  { action: 'delete', icon: 'trash', text: 'Delete…', danger: true, keepsInbox: true },
];

function isCurrent(view: View, folder: FolderView): boolean {
  return view.kind === 'folder' && view.folderId === folder.id;
}

export function Sidebar({
  accounts,
  folders,
  view,
  connectivity,
  progress,
  onNavigate,
  onAddAccount,
  onCompose,
  onCheckMail,
  onFolderDialog,
  drop,
}: {
  accounts: AccountView[];
  folders: FolderCache;
  view: View;
  connectivity(account: AccountView): ConnectivityState;
  progress: Record<string, SyncProgress>;
  onNavigate(view: View): void;
  onAddAccount(): void;
  onCompose(): void;
  onCheckMail(account: AccountView): void;
  onFolderDialog(dialog: FolderDialog): void;
  drop: FolderDrop;
}) {
  const unifiedUnread = accounts.reduce((sum, account) => {
    const inbox = folders.get(account.id).folders?.find((folder) => folder.role === 'inbox');
    return sum + (inbox?.unread ?? 0);
  }, 0);
  return (
    <nav className="pane pane--sidebar" aria-label="Accounts and folders">
      <div className="sidebar__top">
        <div className="sidebar__brand">
          <Logo size={24} />
          <span>Whereabouts</span>
        </div>
        <button
          type="button"
          className="button button--primary button--compose"
          onClick={onCompose}
          aria-keyshortcuts="c"
        >
          <Icon name="compose" size={16} /> New message
        </button>
      </div>
      <div className="sidebar__scroll">
        <ul className="nav-list" aria-label="Views">
          <NavItem
            icon="unified"
            label="All inboxes"
            count={unifiedUnread}
            current={view.kind === 'unified'}
            onSelect={() => onNavigate({ kind: 'unified' })}
          />
          <NavItem
            icon="outbox"
            label="Outbox"
            current={view.kind === 'outbox'}
            onSelect={() => onNavigate({ kind: 'outbox' })}
          />
          <NavItem
            icon="map"
            label="Where is my mail?"
            current={view.kind === 'residency'}
            onSelect={() => onNavigate({ kind: 'residency', accountId: null })}
          />
        </ul>
        {accounts.map((account) => {
          const entry = folders.get(account.id);
          const state = connectivity(account);
          const server = entry.folders === null ? [] : folderTree(entry.folders, 'server');
          const local = entry.folders === null ? [] : folderTree(entry.folders, 'local');
          const busy = progress[account.id] !== undefined && progress[account.id].phase !== 'done';
          return (
            <section key={account.id} className="account" aria-labelledby={`account-${account.id}`}>
              <header className="account__header">
                <h2 className="account__name" id={`account-${account.id}`} title={account.email}>
                  {account.name || account.email}
                </h2>
                <span className="mode-badge" title={`This account runs in ${MODE_LABELS[account.mode]} mode`}>
                  {MODE_LABELS[account.mode]}
                </span>
              </header>
              <div className="account__status">
                <span className={`connectivity connectivity--${state}`} title={account.lastError?.message}>
                  <span className="connectivity__dot" aria-hidden="true" />
                  {CONNECTIVITY_TEXT[state]}
                </span>
                <span className="account__tools">
                  <button
                    type="button"
                    className="icon-button icon-button--small"
                    aria-label={`Check ${account.name} for new mail`}
                    title="Check for new mail"
                    disabled={busy}
                    onClick={() => onCheckMail(account)}
                  >
                    <Icon name="refresh" size={16} />
                  </button>
                  <button
                    type="button"
                    className="icon-button icon-button--small"
                    aria-label={`New folder in ${account.name}`}
                    title="New folder"
                    onClick={() => onFolderDialog({ kind: 'create', account, parent: null })}
                  >
                    <Icon name="plus" size={16} />
                  </button>
                  <button
                    type="button"
                    className={`icon-button icon-button--small ${view.kind === 'settings' && view.accountId === account.id ? 'icon-button--current' : ''}`}
                    aria-label={`Settings of ${account.name}`}
                    title="Account settings"
                    onClick={() => onNavigate({ kind: 'settings', accountId: account.id })}
                  >
                    <Icon name="settings" size={16} />
                  </button>
                </span>
              </div>
              {account.signInRequired === true ? (
                <div className="account__sign-in" role="alert">
                  <p>
                    <strong>Sign in needed.</strong>{' '}
                    {account.auth?.kind === 'oauth2' ? providerName(account.auth.provider) : 'The provider'} no longer
                    accepts this computer’s sign-in.
                  </p>
                  <SignInAgainButton account={account} />
                </div>
              ) : (
                account.lastError &&
                state === 'error' && <p className="account__error">{describeError(account.lastError).title}</p>
              )}
              {entry.error !== null && entry.folders === null && (
                <p className="account__error" role="status">
                  Folders could not be read: {describeError(entry.error).title}{' '}
                  <button type="button" className="button--link" onClick={() => folders.reload(account.id)}>
                    Try again
                  </button>
                </p>
              )}
              {entry.folders === null && entry.error === null && (
                <p className="account__loading muted">Loading folders…</p>
              )}
              {server.length > 0 && (
                <ul className="nav-list" aria-label={`${account.name}: folders on the server`}>
                  {server.map(({ folder, depth }) => (
                    <NavItem
                      key={folder.id}
                      icon={ROLE_ICONS[folder.role ?? ''] ?? 'folder'}
                      label={folderLabel(folder)}
                      count={folder.unread}
                      depth={depth}
                      current={isCurrent(view, folder)}
                      onSelect={() => onNavigate({ kind: 'folder', accountId: account.id, folderId: folder.id })}
                      hint={account.mode === 'pop3' ? 'POP3 reaches only the server’s inbox' : undefined}
                      dropTarget={{ accepts: () => drop.accepts(folder), drop: (copy) => drop.drop(folder, copy) }}
                      menu={
                        <FolderMenu
                          folder={folder}
                          onChoose={(action) =>
                            onFolderDialog(
                              action === 'create'
                                ? { kind: 'create', account, parent: folder }
                                : { kind: action, account, folder },
                            )
                          }
                        />
                      }
                    />
                  ))}
                </ul>
              )}
              {local.length > 0 && (
                <>
                  <h3 className="account__subheading">
                    <Icon name="computer" size={14} /> On this computer
                  </h3>
                  <ul className="nav-list" aria-label={`${account.name}: folders on this computer`}>
                    {local.map(({ folder, depth }) => (
                      <NavItem
                        key={folder.id}
                        icon={ROLE_ICONS[folder.role ?? ''] ?? 'folder'}
                        label={folderLabel(folder)}
                        count={folder.unread}
                        depth={depth}
                        current={isCurrent(view, folder)}
                        onSelect={() => onNavigate({ kind: 'folder', accountId: account.id, folderId: folder.id })}
                        dropTarget={{ accepts: () => drop.accepts(folder), drop: (copy) => drop.drop(folder, copy) }}
                        menu={
                          <FolderMenu
                            folder={folder}
                            onChoose={(action) =>
                              onFolderDialog(
                                action === 'create'
                                  ? { kind: 'create', account, parent: folder }
                                  : { kind: action, account, folder },
                              )
                            }
                          />
                        }
                      />
                    ))}
                  </ul>
                </>
              )}
            </section>
          );
        })}
      </div>
      <SyncStatus progress={progress} accounts={accounts} />
      <footer className="sidebar__footer">
        <button type="button" className="button button--quiet sidebar__add" onClick={onAddAccount}>
          <Icon name="plus" size={16} /> Add an account
        </button>
        <ThemeToggle />
      </footer>
    </nav>
  );
}
