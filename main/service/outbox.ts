/**
 * The outbox: mail the user sends is first stored here (a local Outbox folder, durable), then
 * submitted over SMTP when the server can be reached, then filed in Sent — the server's Sent
 * folder through a queued APPEND in IMAP mode (S7), the local Sent folder in POP3 mode.
 *
 * A connection cut after the final "." of DATA means the server may have accepted the message:
 * such an entry becomes "delivery unknown" and is never resent blindly (the user decides).
 */
import type { MailEvent, MailEvents, OutboxItem, OutgoingMessage } from '../../shared/api';
import { MailError, toErrorPayload } from '../../shared/errors';
import type { Account, FolderRole } from '../../shared/model';
import { withCredentials, type CredentialSource, type Credentials } from '../oauth/credentials';
import type { AccessTokenRequest } from '../oauth/access-tokens';
import { prepareMessage, type OutgoingMessage as ComposeInput } from '../protocols/smtp/compose';
import { sendMessage } from '../protocols/smtp/smtp-client';
import { SmtpSendError } from '../protocols/smtp/smtp-errors';
import type { FolderRecord, MessageStore } from '../store/message-store';
import type { OutboxEntry } from '../store/types';
import type { UserActions } from '../sync/actions';

/** Errors after which the same message may simply be tried again later: the server was not reached. */
const RETRYABLE_CODES = new Set(['CONNECTION_REFUSED', 'HOST_NOT_FOUND', 'TIMEOUT', 'CONNECTION_LOST']);
/** Attachments arrive base64 from the renderer; a message larger than this is refused before it is stored. */
const MAX_OUTGOING_BYTES = 50 * 1024 * 1024;

export interface OutboxOptions {
  store: MessageStore;
  accounts(): ReadonlyMap<string, Account>;
  /** Password or OAuth access token (main/oauth/credentials.ts). */
  credentials(accountId: string, request?: AccessTokenRequest): Promise<Credentials>;
  actions: UserActions;
  emit<E extends MailEvent>(name: E, payload: MailEvents[E]): void;
  /** Removes the saved draft a sent message was written from (drafts.ts). */
  removeDraft?(draftId: string): Promise<void>;
}

/**
 * What the renderer sent, as the composer (protocols/smtp/compose.ts) takes it: the account's
 * From, decoded attachments. The outbox and the drafts build their bytes from this.
 */
export function composeInput(account: Account, message: OutgoingMessage): ComposeInput {
  const attachments = (message.attachments ?? []).map((attachment) => ({
    filename: attachment.filename,
    contentType: attachment.contentType,
    content: Buffer.from(attachment.contentBase64, 'base64'),
  }));
  const attachmentBytes = attachments.reduce((sum, attachment) => sum + attachment.content.length, 0);
  if (attachmentBytes > MAX_OUTGOING_BYTES) {
    throw new MailError(
      'INVALID_INPUT',
      'The attachments are larger than 50 MB; most servers would refuse the message.',
    );
  }
  return {
    from: { name: account.name, address: account.email },
    to: message.to,
    cc: message.cc,
    bcc: message.bcc,
    subject: message.subject,
    text: message.text,
    ...(message.html ? { html: message.html } : {}),
    attachments,
    ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
    ...(message.references && message.references.length > 0 ? { references: message.references } : {}),
  };
}

export class Outbox {
  private readonly flushing = new Map<string, Promise<void>>();

  constructor(private readonly options: OutboxOptions) {}

  private account(accountId: string): Account {
    const account = this.options.accounts().get(accountId);
    if (!account) throw new MailError('NOT_FOUND', 'There is no such account.');
    return account;
  }

  /** The account's local folder with this role, created on first use. */
  async localFolder(accountId: string, role: FolderRole, path: string): Promise<FolderRecord> {
    const { store } = this.options;
    const existing = store
      .listFolderRecords(accountId)
      .find((folder) => folder.kind === 'local' && folder.role === role);
    if (existing) return existing;
    return await store.upsertFolder({ accountId, kind: 'local', path, name: path, role, keepOffline: true });
  }

  /** Stores the message in the outbox and tries to send it right away (in the background). */
  async enqueue(message: OutgoingMessage): Promise<OutboxItem> {
    const account = this.account(message.accountId);
    const prepared = await prepareMessage(composeInput(account, message));
    const folder = await this.localFolder(account.id, 'outbox', 'Outbox');
    const { record } = await this.options.store.insertMessage({
      folderId: folder.id,
      source: prepared.raw,
      flags: ['\\Seen'],
      onServer: false,
      durable: true,
    });
    const entry = this.options.store.addToOutbox({
      accountId: account.id,
      messageId: record.id,
      envelopeFrom: prepared.envelope.from,
      envelopeTo: prepared.envelope.to,
    });
    this.options.emit('outboxChanged', { accountId: account.id });
    // In the outbox now: the draft it was written from is done with (gone already is fine).
    if (message.draftId && this.options.removeDraft) {
      await this.options.removeDraft(message.draftId).catch(() => undefined);
    }
    void this.flush(account.id).catch(() => undefined);
    return this.toItem(entry);
  }

  list(accountId: string | null): OutboxItem[] {
    const accountIds = accountId ? [accountId] : [...this.options.accounts().keys()];
    return accountIds.flatMap((id) =>
      this.options.store
        .listOutbox(id, ['queued', 'sending', 'sent', 'failed', 'delivery-unknown'])
        .map((entry) => this.toItem(entry)),
    );
  }

  /** Sends every queued entry of the account; one flush at a time per account. */
  flush(accountId: string): Promise<void> {
    const running = this.flushing.get(accountId);
    if (running) return running;
    const run = this.flushNow(accountId).finally(() => this.flushing.delete(accountId));
    this.flushing.set(accountId, run);
    return run;
  }

  private async flushNow(accountId: string): Promise<void> {
    const { store } = this.options;
    const account = this.account(accountId);
    const queued = store.listOutbox(accountId, ['queued']);
    if (queued.length === 0) return;
    if (!account.smtp) {
      for (const entry of queued) {
        store.updateOutbox(entry.id, { state: 'failed', lastError: 'This account has no SMTP server to send with.' });
      }
      this.options.emit('outboxChanged', { accountId });
      return;
    }
    const source: CredentialSource = (request) => this.options.credentials(accountId, request);
    // Read once for the whole batch (a missing password leaves every entry queued, as before); a
    // token the server refuses is renewed for this entry and the ones after it.
    let current = await source();
    const batchSource: CredentialSource = async (request) => {
      if (request) current = await source(request);
      return current;
    };
    for (const entry of queued) {
      store.updateOutbox(entry.id, { state: 'sending', attempts: entry.attempts + 1 });
      this.options.emit('outboxChanged', { accountId });
      try {
        const raw = await store.readRaw(entry.messageId);
        const endpoint = account.smtp;
        const result = await withCredentials(batchSource, (login) =>
          sendMessage(
            { endpoint, username: account.username, ...login },
            { raw, envelope: { from: entry.envelopeFrom, to: entry.envelopeTo } },
          ),
        );
        const notDelivered = result.rejectedReasons.map((reason) => `${reason.address} (${reason.serverText})`);
        store.updateOutbox(entry.id, {
          state: 'sent',
          sentAt: new Date().toISOString(),
          lastError: notDelivered.length > 0 ? `Not delivered to: ${notDelivered.join(', ')}` : null,
        });
        await this.fileAsSent(account, entry);
      } catch (error) {
        const payload = toErrorPayload(error);
        if (error instanceof SmtpSendError && error.deliveryUnknown) {
          store.updateOutbox(entry.id, {
            state: 'delivery-unknown',
            lastError: `The connection broke just as the server was confirming: the message may or may not have been sent. ${payload.message}`,
          });
        } else if (RETRYABLE_CODES.has(payload.code)) {
          // Offline: the entry waits; the next flush (on reconnect or "send now") tries again.
          store.updateOutbox(entry.id, { state: 'queued', lastError: payload.message });
          this.options.emit('outboxChanged', { accountId });
          break;
        } else {
          store.updateOutbox(entry.id, { state: 'failed', lastError: payload.message });
        }
      }
      this.options.emit('outboxChanged', { accountId });
    }
  }

  /** After SMTP accepted it: IMAP mode appends to the server's Sent folder (S7), POP3 files it locally. */
  private async fileAsSent(account: Account, entry: OutboxEntry): Promise<void> {
    const { store } = this.options;
    const serverSent =
      account.mode === 'imap'
        ? store.listFolderRecords(account.id).find((folder) => folder.kind === 'server' && folder.role === 'sent')
        : undefined;
    if (serverSent) {
      await this.options.actions.appendToServerFolder(entry.messageId, serverSent.path);
      return;
    }
    const localSent = await this.localFolder(account.id, 'sent', 'Sent');
    await store.moveMessage(entry.messageId, localSent.id, { onServer: false });
  }

  private toItem(entry: OutboxEntry): OutboxItem {
    const record = this.options.store.getMessageRecord(entry.messageId);
    return {
      id: String(entry.id),
      accountId: entry.accountId,
      subject: record?.subject ?? '',
      to: entry.envelopeTo,
      state: entry.state,
      createdAt: entry.createdAt,
      lastError: entry.lastError,
    };
  }
}
