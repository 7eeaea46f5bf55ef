/**
 * The contract's folder and message methods. Reads come from the store; every change goes
 * through the action layer (local store first, then a queued server operation in IMAP mode), and
 * the engine is nudged to replay it in the background.
 */
import type { MailApi, OutgoingMessage } from '../../shared/api';
import { MailError } from '../../shared/errors';
import type { Account, Address } from '../../shared/model';
import type { MessageStore } from '../store/message-store';
import type { AccountEngine } from '../sync/engine';
import type { Outbox } from './outbox';
import type { UserActions } from '../sync/actions';
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
  | 'discoverSettings'
  | 'startOAuthSignIn'
  | 'cancelOAuthSignIn'
  | 'lookUpProvider'
>;

const MAX_PAGE = 1000;

function toAddresses(value: unknown, field: string): Address[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new MailError('INVALID_INPUT', `"${field}" must be a list of addresses.`);
  return value.map((entry) => {
    const item = requireObject(entry, `An address in "${field}"`);
    return { name: optionalString(item, 'name') ?? '', address: requireString(item, 'address', { maxLength: 320 }) };
  });
}

function validateOutgoing(value: unknown): OutgoingMessage {
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

  /** Makes the body local when only headers are here; offline that is not an error, just null parts. */
  const ensureBodies = async (messageIds: readonly string[], required: boolean): Promise<void> => {
    const byAccount = new Map<string, string[]>();
    for (const id of messageIds) {
      const record = store.getMessageRecord(id);
      if (!record) throw new MailError('NOT_FOUND', 'That message no longer exists.');
      if (record.localPath) continue;
      byAccount.set(record.accountId, [...(byAccount.get(record.accountId) ?? []), id]);
    }
    for (const [accountId, ids] of byAccount) {
      try {
        await deps.engineFor(accountId).fetchBodies(ids);
      } catch (error) {
        if (required) throw error;
      }
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
      await ensureBodies(messageIds, true);
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
