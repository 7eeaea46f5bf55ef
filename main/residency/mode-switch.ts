/**
 * Switching an account between IMAP and POP3 (SEMANTICS S13): plan first, then run exactly that
 * plan. Nothing is deleted anywhere by a switch, and it is reversible:
 *
 * - IMAP → POP3: the bodies POP3 will need (INBOX, or every folder) are downloaded first, so no
 *   message becomes unreadable; if that fails, nothing changes. INBOX rows move to the local
 *   POP3 inbox still marked as on the server, so POP3 recognises them (same size, identical header bytes via TOP) and
 *   downloads nothing twice. Other server folders stay untouched on the server, their local
 *   copies readable.
 * - POP3 → IMAP: the server is listed first; local inbox copies of messages the server holds are
 *   re-linked to their IMAP identity (no second download), and local-only mail is uploaded to the
 *   chosen folder when asked, skipping what the server already has (Message-ID + size).
 */
import type { ChangePlan, MailEvent, MailEvents, ProposedChange } from '../../shared/api';
import { MailError } from '../../shared/errors';
import type { Account, ServerEndpoint } from '../../shared/model';
import { connectImap } from '../protocols/imap/connect-imap';
import { withCredentials, type CredentialSource } from '../oauth/credentials';
import type { MessageStore } from '../store/message-store';
import { cancelledError, isCancelled, throwIfCancelled, type AccountEngine } from '../sync/engine';
import { ensureLocalFolders } from '../sync/pop3/local-folders';
import type { UserActions } from '../sync/actions';
import { duplicateKey, planChange, type PlanInput } from './plan';
import { planInput } from './report';

export interface ServerMessage {
  folderPath: string;
  /** The folder's SPECIAL-USE role (RFC 6154), or null. */
  folderRole: string | null;
  uidValidity: number;
  uid: number;
  messageIdHeader: string | null;
  size: number;
  flags: string[];
}

export interface SwitchDependencies {
  store: MessageStore;
  account(): Account;
  /** The account's login: a password, or an OAuth2 access token renewed when refused. */
  credentials: CredentialSource;
  engine(): AccountEngine;
  actions: UserActions;
  updateAccount(changes: Partial<Account>): Promise<Account>;
  emit<E extends MailEvent>(name: E, payload: MailEvents[E]): void;
  /**
   * The user's Cancel (cancelWork). Honoured until the mode is committed: the account then keeps its
   * old mode, with the copies already downloaded kept. After the commit (a switch to IMAP) it stops
   * the first sync and the uploads not yet queued; what was queued goes up with the next sync.
   */
  signal?: AbortSignal;
}

const HEADER_BATCH = 500;
/** Messages per fetchBodies call while a switch downloads: the unit its progress and Cancel work in. */
export const SWITCH_DOWNLOAD_CHUNK = 50;

const count = (value: number): string => value.toLocaleString('en-US');

/** The POP3 server to use when the account has none saved: the IMAP host, implicit TLS (RFC 8314). */
function defaultEndpoint(from: ServerEndpoint | null, port: number): ServerEndpoint | null {
  return from ? { host: from.host, port, security: 'tls', pinnedFingerprint: from.pinnedFingerprint ?? null } : null;
}

export function targetEndpoint(account: Account, change: ProposedChange): ServerEndpoint {
  if (change.kind !== 'switch-mode') throw new MailError('INVALID_INPUT', 'This change is not a mode switch.');
  const endpoint =
    change.server ??
    (change.to === 'pop3'
      ? (account.pop3 ?? defaultEndpoint(account.imap, 995))
      : (account.imap ?? defaultEndpoint(account.pop3, 993)));
  if (!endpoint) throw new MailError('INVALID_INPUT', `Enter the ${change.to.toUpperCase()} server's settings first.`);
  return endpoint;
}

/** Every message on the IMAP server (headers only), for a plan that must know what is there. */
export async function listServerMessages(
  account: Account,
  endpoint: ServerEndpoint,
  credentials: CredentialSource,
  signal?: AbortSignal,
): Promise<ServerMessage[]> {
  const session = await withCredentials(credentials, (login) =>
    connectImap({ endpoint, username: account.username, ...login }),
  );
  try {
    const messages: ServerMessage[] = [];
    for (const folder of await session.listFolders()) {
      if (!folder.selectable) continue;
      throwIfCancelled(signal);
      await session.fetchHeaders(folder.path, { from: 1 }, { batchSize: HEADER_BATCH }, (batch) => {
        for (const message of batch.messages) {
          messages.push({
            folderPath: folder.path,
            folderRole: folder.role,
            uidValidity: batch.uidValidity,
            uid: message.uid,
            messageIdHeader: message.envelope.messageId,
            size: message.size,
            flags: message.flags,
          });
        }
      });
    }
    return messages;
  } finally {
    await session.close();
  }
}

/**
 * What the plan of a switch to IMAP must add to the local snapshot: server messages this computer
 * has never seen appear as server-only rows after the switch, and local inbox copies the server
 * holds become "both".
 */
export function withServerInventory(
  input: PlanInput,
  inventory: readonly ServerMessage[],
  offlineFolders: readonly string[] = [],
): PlanInput {
  const folderById = new Map(input.folders.map((folder) => [folder.id, folder]));
  const isInboxPath = (path: string): boolean => path.toUpperCase() === 'INBOX';
  const localInboxIds = new Set(
    input.folders.filter((folder) => folder.kind === 'local' && folder.role === 'inbox').map((folder) => folder.id),
  );
  const serverInboxKeys = new Set(
    inventory
      .filter((message) => isInboxPath(message.folderPath))
      .map(duplicateKey)
      .filter((key) => key !== null),
  );
  // Local inbox copies the server's INBOX holds are re-linked: they count once, as "both".
  const relinked = new Set<string>();
  const messages = input.messages.map((message) => {
    const key = duplicateKey(message);
    if (!localInboxIds.has(message.folderId) || key === null || !serverInboxKeys.has(key) || relinked.has(key))
      return message;
    relinked.add(key);
    return { ...message, residency: 'both' as const };
  });
  // Server folders this computer already lists keep their rows (matched by identity during sync).
  const listed = new Set(
    input.messages
      .filter((message) => folderById.get(message.folderId)?.kind === 'server')
      .map((message) => `${folderById.get(message.folderId)?.path}\u0000${duplicateKey(message)}`),
  );
  const unseen = inventory
    .filter((message) => {
      const key = duplicateKey(message);
      if (key !== null && isInboxPath(message.folderPath) && relinked.has(key)) return false;
      return !listed.has(`${message.folderPath}\u0000${key}`);
    })
    .map((message) => ({
      id: `server:${message.folderPath}:${message.uidValidity}:${message.uid}`,
      folderId: `server-folder:${message.folderPath}`,
      subject: '',
      messageIdHeader: message.messageIdHeader,
      size: message.size,
      residency: 'server' as const,
      popUidl: null,
      downloadedAt: null,
    }));
  // The IMAP engine keeps INBOX, Sent and Drafts (and the account's offline folders) for offline
  // reading when it first sees them, so their bodies come down with the first sync.
  const roles = new Map(inventory.map((message) => [message.folderPath, message.folderRole]));
  const serverFolders = [...roles].map(([path, role]) => ({
    id: `server-folder:${path}`,
    path,
    kind: 'server' as const,
    role: isInboxPath(path) ? 'inbox' : role,
    keepOffline: isInboxPath(path) || role === 'sent' || role === 'drafts' || offlineFolders.includes(path),
  }));
  return { ...input, folders: [...input.folders, ...serverFolders], messages: [...messages, ...unseen] };
}

export async function previewChange(deps: SwitchDependencies, change: ProposedChange): Promise<ChangePlan> {
  const account = deps.account();
  let input = planInput(deps.store, account);
  if (change.kind === 'switch-mode' && change.to === 'imap' && account.mode === 'pop3') {
    input = withServerInventory(
      input,
      await listServerMessages(account, targetEndpoint(account, change), deps.credentials),
    );
  }
  return planChange(input, change);
}

/** Progress of the switch; `cancellable` while the user's Cancel is still honoured. */
function progress(deps: SwitchDependencies, done: number, total: number, bytes: number, cancellable = false): void {
  deps.emit('syncProgress', {
    accountId: deps.account().id,
    phase: 'switch',
    folder: null,
    done,
    total,
    bytes,
    ...(cancellable && deps.signal ? { cancellable: 'switch' as const } : {}),
  });
}

/**
 * The last event of a switch the user stopped, and the error it rejects with. Phase 'switch': before
 * the commit, counting the copies downloaded; 'upload': after it, counting the uploads queued.
 */
function stopped(
  deps: SwitchDependencies,
  done: number,
  total: number,
  bytes: number,
  message: string,
  phase: 'switch' | 'upload' = 'switch',
): MailError {
  deps.emit('syncProgress', {
    accountId: deps.account().id,
    phase: 'done',
    folder: null,
    done,
    total,
    bytes,
    cancelled: { work: 'switch', phase },
  });
  return cancelledError(message);
}

export async function switchMode(deps: SwitchDependencies, change: ProposedChange): Promise<ChangePlan> {
  if (change.kind !== 'switch-mode') throw new MailError('INVALID_INPUT', 'This change is not a mode switch.');
  const account = deps.account();
  if (account.mode === change.to) {
    throw new MailError('INVALID_INPUT', `This account already uses ${change.to.toUpperCase()}.`);
  }
  return change.to === 'pop3' ? await switchToPop3(deps, change) : await switchToImap(deps, change);
}

async function switchToPop3(
  deps: SwitchDependencies,
  change: Extract<ProposedChange, { to: 'pop3' }>,
): Promise<ChangePlan> {
  const { store } = deps;
  const account = deps.account();
  const endpoint = targetEndpoint(account, change);
  const plan = planChange(planInput(store, account), change);
  const total = plan.download.length + 1;
  progress(deps, 0, total, 0, true);
  if (plan.download.length > 0) {
    // Downloads go through the IMAP engine while the account is still in IMAP mode, a chunk at a
    // time: Cancel stops between chunks, and every copy downloaded by then stays (S13: nothing lost).
    let done = 0;
    let bytes = 0;
    for (let start = 0; start < plan.download.length; start += SWITCH_DOWNLOAD_CHUNK) {
      if (deps.signal?.aborted) break;
      const chunk = plan.download.slice(start, start + SWITCH_DOWNLOAD_CHUNK);
      try {
        await deps.engine().fetchBodies(
          chunk.map((entry) => entry.messageId),
          deps.signal ? { signal: deps.signal } : {},
        );
      } catch (error) {
        // Stopped inside the chunk: reported below, with what was downloaded.
        if (!deps.signal?.aborted) throw error;
      } finally {
        for (const entry of chunk) {
          const record = store.getMessageRecord(entry.messageId);
          if (!record?.localPath) continue;
          done += 1;
          bytes += record.size;
        }
      }
      if (!deps.signal?.aborted) progress(deps, done, total, bytes, true);
    }
    if (deps.signal?.aborted) {
      throw stopped(
        deps,
        done,
        plan.download.length,
        bytes,
        `Switch stopped: the account still uses IMAP. ${count(done)} of ${count(plan.download.length)} messages ` +
          'were downloaded and stay on this computer; switching again downloads only the rest.',
      );
    }
    const missing = plan.download.filter((entry) => !store.getMessageRecord(entry.messageId)?.localPath);
    if (missing.length > 0) {
      throw new MailError(
        'CONNECTION_LOST',
        `${missing.length} message(s) could not be downloaded, so the account was left in IMAP mode. Nothing was changed.`,
      );
    }
  }
  progress(deps, plan.download.length, total, plan.totals.download.bytes);
  // From here on the switch is committed: the user's Cancel is no longer honoured.
  // The inbox rows move to the local POP3 inbox, still marked as on the server.
  const inbox = await ensureLocalFolders(store, account.id);
  for (const folder of store.listFolderRecords(account.id)) {
    if (folder.kind !== 'server' || (folder.role !== 'inbox' && folder.path.toUpperCase() !== 'INBOX')) continue;
    for (const message of store.listFolderMessages(folder.id)) {
      await store.moveMessage(message.id, inbox.id, { onServer: true });
    }
  }
  await deps.updateAccount({ mode: 'pop3', pop3: endpoint, leaveOnServer: change.leaveOnServer });
  progress(deps, total, total, plan.totals.download.bytes);
  return plan;
}

async function switchToImap(
  deps: SwitchDependencies,
  change: Extract<ProposedChange, { to: 'imap' }>,
): Promise<ChangePlan> {
  const { store } = deps;
  const account = deps.account();
  const endpoint = targetEndpoint(account, change);
  progress(deps, 0, 0, 0, true);
  let inventory: ServerMessage[];
  try {
    inventory = await listServerMessages(account, endpoint, deps.credentials, deps.signal);
  } catch (error) {
    if (!isCancelled(error)) throw error;
    throw stopped(deps, 0, 0, 0, 'Switch stopped: the account still uses POP3. Nothing was changed.');
  }
  const plan = planChange(withServerInventory(planInput(store, account), inventory, account.offlineFolders), change);
  const total = plan.upload.length + 2;
  if (deps.signal?.aborted) {
    throw stopped(deps, 0, 0, 0, 'Switch stopped: the account still uses POP3. Nothing was changed.');
  }
  progress(deps, 0, total, 0);

  // Re-link local inbox copies to the server's INBOX rows before the first IMAP sync sees them.
  const localInbox = store
    .listFolderRecords(account.id)
    .find((folder) => folder.kind === 'local' && folder.role === 'inbox');
  const serverInboxMessages = new Map<string, ServerMessage>();
  for (const message of inventory) {
    const key = duplicateKey(message);
    if (key && message.folderPath.toUpperCase() === 'INBOX' && !serverInboxMessages.has(key))
      serverInboxMessages.set(key, message);
  }
  if (localInbox) {
    const serverInbox = await store.upsertFolder({
      accountId: account.id,
      kind: 'server',
      path: 'INBOX',
      role: 'inbox',
      keepOffline: true,
    });
    for (const message of store.listFolderMessages(localInbox.id)) {
      const key = duplicateKey({ messageIdHeader: message.messageId, size: message.size });
      const match = key ? serverInboxMessages.get(key) : undefined;
      if (!match) continue;
      serverInboxMessages.delete(key as string);
      await store.moveMessage(message.id, serverInbox.id, { onServer: true });
      await store.setRemoteIdentity(message.id, { uidvalidity: match.uidValidity, uid: match.uid });
    }
  }
  await deps.updateAccount({ mode: 'imap', imap: endpoint });
  // Committed. A Cancel from here on stops the first sync and the uploads not yet queued.
  const uploading = plan.upload.length > 0 && change.uploadLocalTo !== null;
  const afterCommit = (queued: number): string =>
    'The account now uses IMAP; its first sync continues with the next sync. ' +
    (uploading
      ? `${count(queued)} of ${count(plan.upload.length)} messages only on this computer were queued for upload ` +
        `and go to the server with the next sync; the other ${count(plan.upload.length - queued)} stay only on this computer.`
      : '');
  progress(deps, 1, total, 0, true);
  const syncOptions = deps.signal ? { signal: deps.signal } : {};
  try {
    await deps.engine().syncOnce(syncOptions);
  } catch (error) {
    if (!isCancelled(error) && !deps.signal?.aborted) throw error;
    throw stopped(deps, 0, plan.upload.length, 0, afterCommit(0).trim(), 'upload');
  }

  if (uploading && change.uploadLocalTo !== null) {
    if (!store.findFolder(account.id, 'server', change.uploadLocalTo)) {
      await deps.actions.createFolder(account.id, change.uploadLocalTo, { kind: 'server' });
    }
    let bytes = 0;
    for (const [index, entry] of plan.upload.entries()) {
      if (deps.signal?.aborted) {
        throw stopped(deps, index, plan.upload.length, bytes, afterCommit(index), 'upload');
      }
      await deps.actions.appendToServerFolder(entry.messageId, change.uploadLocalTo);
      bytes += entry.bytes;
      progress(deps, index + 2, total, bytes, true);
    }
    // Replays the queued uploads now.
    try {
      await deps.engine().syncOnce(syncOptions);
    } catch (error) {
      if (!isCancelled(error) && !deps.signal?.aborted) throw error;
      throw stopped(deps, plan.upload.length, plan.upload.length, bytes, afterCommit(plan.upload.length), 'upload');
    }
  }
  progress(deps, total, total, plan.totals.upload.bytes);
  return plan;
}
