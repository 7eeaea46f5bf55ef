/**
 * Drafts: what the composer saves while the user writes. IMAP mode keeps them in the server's
 * Drafts folder (SPECIAL-USE \Drafts, RFC 6154) with the \Draft flag: stored here first, the
 * APPEND queued in the same transaction, so saving works offline and reaches the server on
 * reconnect. POP3 has no server folders (S5, S12): drafts stay in a Drafts folder on this
 * computer, as they do for an IMAP server without a Drafts folder.
 *
 * Every save writes a new message (new Message-ID) and then removes the previous version; on
 * the server that removal is queued after the APPEND of the new one.
 */
import type { AddressSuggestion, DraftContent, MailApi, OutgoingMessage, SavedDraft } from '../../shared/api';
import { MailError } from '../../shared/errors';
import type { Account } from '../../shared/model';
import { prepareDraft } from '../protocols/smtp/compose';
import { KeyedLock } from '../store/keyed-lock';
import type { FolderRecord, MessageRecord, MessageStore } from '../store/message-store';
import type { UserActions } from '../sync/actions';
import { composeInput, type Outbox } from './outbox';
import { optionalString, requireInteger, requireObject, requireString } from './validate';

const MAX_SUGGESTIONS = 50;
const DEFAULT_SUGGESTIONS = 8;
/** Messages counted per transaction (about 40 ms each; 100,000 take about 2 s in all). */
const KNOWN_ADDRESS_BATCH_ROWS = 2_000;

export interface DraftsOptions {
  store: MessageStore;
  account(accountId: string): Account;
  accounts(): Iterable<Account>;
  actions: UserActions;
  outbox: Pick<Outbox, 'localFolder'>;
  /** Makes a header-only draft (synced from the server) local before it is reopened. */
  fetchBodies(accountId: string, messageIds: readonly string[]): Promise<void>;
  /** Starts a background pass so a queued APPEND or expunge reaches the server soon. */
  syncInBackground(accountId: string): void;
}

export class Drafts {
  /** One save at a time per account: two windows saving the same draft must not both replace it. */
  private readonly saving = new KeyedLock();
  /**
   * What each replaced version became, in this run of the app: a save that names an older version
   * (the same draft open in two windows) replaces the newest one, so the draft stays one draft.
   */
  private readonly successors = new Map<string, string>();

  constructor(private readonly options: DraftsOptions) {}

  /** The newest version of the draft `draftId` was, following the saves made since. */
  private newestVersion(draftId: string): string {
    let newest = draftId;
    for (let next = this.successors.get(newest); next !== undefined; next = this.successors.get(newest)) newest = next;
    if (newest !== draftId) this.successors.set(draftId, newest);
    return newest;
  }

  private get store(): MessageStore {
    return this.options.store;
  }

  /** IMAP: the server's \Drafts folder when the server has one; otherwise a Drafts folder here. */
  async folderFor(account: Account): Promise<FolderRecord> {
    if (account.mode === 'imap') {
      const folders = this.store.listFolderRecords(account.id).filter((folder) => folder.kind === 'server');
      const server =
        folders.find((folder) => folder.role === 'drafts') ??
        folders.find((folder) => folder.path.toLowerCase() === 'drafts');
      if (server) return server;
    }
    return this.options.outbox.localFolder(account.id, 'drafts', 'Drafts');
  }

  /** The stored draft, checked: a message with \Draft or in a Drafts folder, of that account. */
  private requireDraft(draftId: string, accountId?: string): MessageRecord {
    const record = this.store.getMessageRecord(draftId);
    if (!record) throw new MailError('NOT_FOUND', 'That draft no longer exists. It may have been sent or deleted.');
    const folder = this.store.getFolder(record.folderId);
    const isDraft = record.flags.some((flag) => flag.toLowerCase() === '\\draft') || folder?.role === 'drafts';
    if (!isDraft) throw new MailError('INVALID_INPUT', 'That message is not a draft.');
    if (accountId !== undefined && record.accountId !== accountId) {
      throw new MailError('INVALID_INPUT', 'That draft belongs to another account.');
    }
    return record;
  }

  async save(draftId: string | null, message: OutgoingMessage): Promise<SavedDraft> {
    const account = this.options.account(message.accountId);
    const { raw } = await prepareDraft(composeInput(account, message));
    const { record, folder } = await this.saving.run(account.id, async () => {
      const newest = draftId === null ? null : this.newestVersion(draftId);
      // The previous version may be gone (sent or deleted on another device): then this is a new draft.
      const previous = newest !== null && this.store.getMessageRecord(newest) ? newest : null;
      if (previous !== null) this.requireDraft(previous, account.id);
      const draftsFolder = await this.folderFor(account);
      const stored = await this.options.actions.storeDraft(draftsFolder.id, raw, previous);
      if (previous !== null) this.successors.set(previous, stored.id);
      return { record: stored, folder: draftsFolder };
    });
    if (folder.kind === 'server') this.options.syncInBackground(account.id);
    return {
      draftId: record.id,
      folderId: folder.id,
      location: folder.kind === 'server' ? 'server' : 'local',
      savedAt: new Date().toISOString(),
    };
  }

  async get(draftId: string): Promise<DraftContent> {
    let record = this.requireDraft(draftId);
    if (record.localPath === null) {
      await this.options.fetchBodies(record.accountId, [record.id]);
      record = this.requireDraft(draftId);
      if (record.localPath === null) {
        throw new MailError('NOT_FOUND', 'This draft is on the server and could not be fetched just now.');
      }
    }
    const detail = await this.store.getMessageDetail(record.id);
    const parts = detail.parts ?? [];
    const attachments = await Promise.all(
      detail.attachments.map(async (info) => {
        const attachment = await this.store.getAttachment(record.id, info.partId);
        return {
          filename: attachment.filename,
          contentType: attachment.contentType,
          contentBase64: attachment.content.toString('base64'),
        };
      }),
    );
    return {
      draftId: record.id,
      message: {
        accountId: record.accountId,
        to: detail.to,
        cc: detail.cc,
        bcc: detail.bcc,
        subject: detail.subject,
        text: parts.find((part) => part.kind === 'text')?.content ?? '',
        html: parts.find((part) => part.kind === 'html')?.content ?? null,
        attachments,
        inReplyTo: detail.inReplyTo,
        references: detail.references,
      },
    };
  }

  async remove(draftId: string): Promise<void> {
    const record = this.requireDraft(draftId);
    await this.options.actions.discardDraft(record.id);
    const folder = this.store.getFolder(record.folderId);
    if (folder?.kind === 'server') this.options.syncInBackground(record.accountId);
  }

  /** Addresses of stored mail, the user's own accounts left out. */
  /**
   * Counts the addresses of mail stored since the last time (all of it, the first time: 100,000
   * messages take a few seconds), in short transactions that leave the event loop free between.
   */
  async indexAddresses(): Promise<void> {
    while (this.store.indexKnownAddresses(KNOWN_ADDRESS_BATCH_ROWS)) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async suggest(query: string, limit: number, accountId: string | null): Promise<AddressSuggestion[]> {
    await this.indexAddresses();
    const own = new Set([...this.options.accounts()].map((account) => account.email.toLowerCase()));
    return this.store
      .suggestAddresses(query, { limit: limit + own.size, accountId })
      .filter((entry) => !own.has(entry.address))
      .slice(0, limit);
  }
}

type DraftHandlers = Pick<MailApi, 'saveDraft' | 'getDraft' | 'deleteDraft' | 'suggestAddresses'>;

export function createDraftHandlers(
  drafts: Drafts,
  validateOutgoing: (value: unknown) => OutgoingMessage,
): DraftHandlers {
  return {
    async saveDraft(request) {
      const body = requireObject(request);
      return drafts.save(optionalString(body, 'draftId'), validateOutgoing(body.message));
    },
    async getDraft(request) {
      return drafts.get(requireString(requireObject(request), 'draftId'));
    },
    async deleteDraft(request) {
      await drafts.remove(requireString(requireObject(request), 'draftId'));
    },
    async suggestAddresses(request) {
      const body = requireObject(request);
      const query = typeof body.query === 'string' ? body.query.slice(0, 320) : '';
      const limit = body.limit === undefined ? DEFAULT_SUGGESTIONS : requireInteger(body, 'limit', 1, MAX_SUGGESTIONS);
      return drafts.suggest(query, limit, optionalString(body, 'accountId'));
    },
  };
}
