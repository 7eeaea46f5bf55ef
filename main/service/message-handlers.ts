/**
 * The contract's folder and message methods. Reads come from the store; every change goes
 * through the action layer (local store first, then a queued server operation in IMAP mode), and
 * the engine is nudged to replay it in the background.
 */
import type { MailApi, OutgoingMessage } from '../../shared/api';
import { MailError } from '../../shared/errors';
import type { Account, Address, SyncProgress } from '../../shared/model';
import type { MessageStore } from '../store/message-store';
import { cancelledError, type AccountEngine, type EngineContext } from '../sync/engine';
import type { Outbox } from './outbox';
import type { UserActions } from '../sync/actions';
import type { WorkControl } from './work-control';
import { fetchRemoteImages, type RemoteContentOptions } from './remote-content';
import {
  optionalBoolean,
  optionalEnum,
  optionalString,
  optionalStringList,
  requireInteger,
  requireObject,
  requireString,
  requireStringList,
} from './validate';

export interface MessageHandlerDependencies {
  store: MessageStore;
  remoteContent?: RemoteContentOptions;
  actions: UserActions;
  account(accountId: string): Account;
  engineFor(accountId: string): AccountEngine;
  syncInBackground(accountId: string): void;
  outbox: Outbox;
  /** Makes "download" cancellable (cancelWork); absent, downloads run to the end. */
  work?: WorkControl;
  emit?: EngineContext['emit'];
}

type MessageHandlers = Omit<
  MailApi,
  | 'getAppInfo'
  | 'listAccounts'
  | 'addAccount'
  | 'removeAccount'
  | 'updateAccount'
  | 'testConnection'
  | 'syncAccount'
  | 'getResidency'
  | 'planChange'
  | 'switchMode'
  | 'cancelWork'
  | 'exportFolder'
  | 'discoverSettings'
  | 'startOAuthSignIn'
  | 'cancelOAuthSignIn'
  | 'lookUpProvider'
  | 'saveDraft'
  | 'getDraft'
  | 'deleteDraft'
  | 'suggestAddresses'
>;

const MAX_PAGE = 1000;
const count = (value: number): string => value.toLocaleString('en-US');
/**
 * Messages per fetchBodies call of a download the user asked for: the unit its progress is reported
 * in. POP3 opens a session per call, so its unit is larger.
 */
export const DOWNLOAD_CHUNK = { imap: 50, pop3: 200 } as const;

function toAddresses(value: unknown, field: string): Address[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MailError('INVALID_INPUT', `"${field}" must be a list of addresses.`);
  return value.map((entry) => {
    const item = requireObject(entry, `An address in "${field}"`);
    return { name: optionalString(item, 'name') ?? '', address: requireString(item, 'address', { maxLength: 320 }) };
  });
}

export function validateOutgoing(value: unknown): OutgoingMessage {
  const body = requireObject(value);
  const attachments = Array.isArray(body.attachments)
    ? body.attachments.map((entry) => {
        const item = requireObject(entry, 'An attachment');
        return {
          filename: requireString(item, 'filename', { maxLength: 255 }),
          contentType: optionalString(item, 'contentType') ?? 'application/octet-stream',
          contentBase64: typeof item.contentBase64 === 'string' ? item.contentBase64 : '',
        };
      })
    : [];
  return {
    accountId: requireString(body, 'accountId'),
    to: toAddresses(body.to, 'to'),
    cc: toAddresses(body.cc, 'cc'),
    bcc: toAddresses(body.bcc, 'bcc'),
    subject: typeof body.subject === 'string' ? body.subject : '',
    text: typeof body.text === 'string' ? body.text : '',
    html: optionalString(body, 'html'),
    attachments,
    inReplyTo: optionalString(body, 'inReplyTo'),
    references: optionalStringList(body, 'references'),
    draftId: optionalString(body, 'draftId'),
  };
}

export function createMessageHandlers(deps: MessageHandlerDependencies): MessageHandlers {
  const { store, actions } = deps;

  const accountsOf = (messageIds: readonly string[]): Set<string> => {
    const accountIds = new Set<string>();
    for (const id of messageIds) {
      const record = store.getMessageRecord(id);
      if (!record) throw new MailError('NOT_FOUND', 'That message no longer exists.');
      accountIds.add(record.accountId);
    }
    return accountIds;
  };

  const nudge = (accountIds: Iterable<string>): void => {
    for (const accountId of accountIds) deps.syncInBackground(accountId);
  };

  /** The messages whose bytes are not here yet, by account; an unknown id is NOT_FOUND. */
  const headerOnlyByAccount = (messageIds: readonly string[]): Map<string, string[]> => {
    const byAccount = new Map<string, string[]>();
    for (const id of messageIds) {
      const record = store.getMessageRecord(id);
      if (!record) throw new MailError('NOT_FOUND', 'That message no longer exists.');
      if (record.localPath) continue;
      const ids = byAccount.get(record.accountId) ?? [];
      ids.push(id);
      byAccount.set(record.accountId, ids);
    }
    return byAccount;
  };

  /** Makes the body local when only headers are here; offline that is not an error, just null parts. */
  const ensureBodies = async (messageIds: readonly string[], required: boolean): Promise<void> => {
    for (const [accountId, ids] of headerOnlyByAccount(messageIds)) {
      try {
        await deps.engineFor(accountId).fetchBodies(ids);
      } catch (error) {
        if (required) throw error;
      }
    }
  };

  /**
   * A download the user asked for, a chunk at a time with progress; Cancel stops it after what is
   * in flight (the engines check the signal per message, or per batch of bodies for IMAP).
   * The counts are of messages whose bytes are durably here.
   */
  const downloadInChunks = async (
    accountId: string,
    ids: readonly string[],
    signal: AbortSignal,
    emit: EngineContext['emit'],
  ): Promise<void> => {
    const engine = deps.engineFor(accountId);
    const chunkSize = DOWNLOAD_CHUNK[engine.mode];
    let done = 0;
    let bytes = 0;
    const report = (ending: Pick<SyncProgress, 'cancelled'> | null = null): void =>
      emit('syncProgress', {
        accountId,
        phase: ending ? 'done' : 'download',
        folder: null,
        done,
        total: ids.length,
        bytes,
        ...(ending ?? { cancellable: 'download' as const }),
      });
    report();
    for (let start = 0; start < ids.length; start += chunkSize) {
      if (signal.aborted) break;
      const chunk = ids.slice(start, start + chunkSize);
      try {
        await engine.fetchBodies(chunk, { signal });
      } catch (error) {
        // Stopped inside the chunk (an engine that ends a stopped download with an error): reported below.
        if (!signal.aborted) throw error;
      } finally {
        for (const id of chunk) {
          const record = store.getMessageRecord(id);
          if (!record?.localPath) continue;
          done += 1;
          bytes += record.size;
        }
      }
      if (!signal.aborted) report();
    }
    if (signal.aborted) {
      report({ cancelled: { work: 'download', phase: 'download' } });
      throw cancelledError(
        `Download stopped: ${count(done)} of ${count(ids.length)} messages are on this computer now; ` +
          `the other ${count(ids.length - done)} stay on the server.`,
      );
    }
  };

  return {
    async listFolders(request) {
      const accountId = requireString(requireObject(request), 'accountId');
      deps.account(accountId);
      return store.listFolders(accountId);
    },

    async listMessages(request) {
      const body = requireObject(request);
      return store.listMessages({
        folderId: requireString(body, 'folderId'),
        offset: requireInteger(body, 'offset', 0, Number.MAX_SAFE_INTEGER),
        limit: requireInteger(body, 'limit', 1, MAX_PAGE),
        sort: optionalEnum(body, 'sort', ['date', 'from', 'subject'] as const) ?? 'date',
        direction: optionalEnum(body, 'direction', ['asc', 'desc'] as const) ?? 'desc',
        residency: optionalEnum(body, 'residency', ['server', 'local', 'both'] as const),
        threads: optionalBoolean(body, 'threads'),
        threadId: optionalString(body, 'threadId'),
      });
    },

    async getMessage(request) {
      const messageId = requireString(requireObject(request), 'messageId');
      await ensureBodies([messageId], false);
      return await store.getMessageDetail(messageId);
    },

    async getRawMessage(request) {
      const messageId = requireString(requireObject(request), 'messageId');
      await ensureBodies([messageId], true);
      return { base64: (await store.readRaw(messageId)).toString('base64') };
    },

    async downloadMessages(request) {
      const messageIds = requireStringList(requireObject(request), 'messageIds');
      const { work, emit } = deps;
      if (!work || !emit) {
        await ensureBodies(messageIds, true);
        return;
      }
      for (const [accountId, ids] of headerOnlyByAccount(messageIds)) {
        await work.run(accountId, 'download', (signal) => downloadInChunks(accountId, ids, signal, emit));
      }
    },

    async setFlags(request) {
      const body = requireObject(request);
      const messageIds = requireStringList(body, 'messageIds');
      await actions.setFlags(messageIds, optionalStringList(body, 'add'), optionalStringList(body, 'remove'));
      nudge(accountsOf(messageIds));
    },

    async moveMessages(request) {
      const body = requireObject(request);
      const messageIds = requireStringList(body, 'messageIds');
      const accountIds = accountsOf(messageIds);
      await actions.move(messageIds, requireString(body, 'folderId'));
      nudge(accountIds);
    },

    async copyMessages(request) {
      const body = requireObject(request);
      const messageIds = requireStringList(body, 'messageIds');
      await actions.copy(messageIds, requireString(body, 'folderId'));
      nudge(accountsOf(messageIds));
    },

    async deleteMessages(request) {
      const body = requireObject(request);
      const messageIds = requireStringList(body, 'messageIds');
      const accountIds = accountsOf(messageIds);
      await actions.delete(messageIds, { fromServer: optionalBoolean(body, 'fromServer') });
      nudge(accountIds);
    },

    async createFolder(request) {
      const body = requireObject(request);
      const accountId = requireString(body, 'accountId');
      const kind = optionalEnum(body, 'kind', ['server', 'local'] as const) ?? 'server';
      const folder = await actions.createFolder(accountId, requireString(body, 'name', { maxLength: 255 }), {
        parentId: optionalString(body, 'parentId'),
        kind,
      });
      nudge([accountId]);
      return folder;
    },

    async renameFolder(request) {
      const body = requireObject(request);
      const folderId = requireString(body, 'folderId');
      const folder = store.getFolder(folderId);
      if (!folder) throw new MailError('NOT_FOUND', 'That folder no longer exists.');
      await actions.renameFolder(folderId, requireString(body, 'name', { maxLength: 255 }));
      nudge([folder.accountId]);
    },

    async deleteFolder(request) {
      const folderId = requireString(requireObject(request), 'folderId');
      const folder = store.getFolder(folderId);
      if (!folder) throw new MailError('NOT_FOUND', 'That folder no longer exists.');
      await actions.deleteFolder(folderId);
      nudge([folder.accountId]);
    },

    async search(request) {
      const body = requireObject(request);
      const query = typeof body.query === 'string' ? body.query : '';
      if (query.trim() === '') return [];
      const accountId = optionalString(body, 'accountId');
      const limit = body.limit === undefined ? 50 : requireInteger(body, 'limit', 1, 500);
      return store.search(query, { limit, ...(accountId ? { accountId } : {}) });
    },

    async sendMessage(request) {
      const message = validateOutgoing(request);
      deps.account(message.accountId);
      return await deps.outbox.enqueue(message);
    },

    async getAttachment(request) {
      const body = requireObject(request);
      const messageId = requireString(body, 'messageId');
      await ensureBodies([messageId], true);
      const attachment = await store.getAttachment(messageId, requireString(body, 'partId', { maxLength: 200 }));
      return {
        filename: attachment.filename,
        contentType: attachment.contentType,
        base64: attachment.content.toString('base64'),
      };
    },

    async fetchRemoteImages(request) {
      const body = requireObject(request);
      const messageId = requireString(body, 'messageId');
      if (!store.getMessageRecord(messageId)) throw new MailError('NOT_FOUND', 'That message no longer exists.');
      return await fetchRemoteImages(requireStringList(body, 'urls'), deps.remoteContent);
    },

    async listOutbox(request) {
      const accountId = request ? optionalString(requireObject(request), 'accountId') : null;
      return deps.outbox.list(accountId);
    },
  };
}
