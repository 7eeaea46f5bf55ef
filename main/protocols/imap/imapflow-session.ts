/**
 * The ImapSession (imap-mailbox.ts) on imapflow. Designed around imapflow's behaviours that lose
 * or hang mail:
 * - `mailboxClose()` sends CLOSE, which silently expunges every \Deleted message (RFC 3501
 *   section 6.4.2); imapflow also sends CLOSE before RENAME/DELETE of the selected folder. We never
 *   call it, and before RENAME/DELETE we re-open the folder read-only (EXAMINE), where CLOSE
 *   removes nothing (same section).
 * - Without MOVE, imapflow's move is COPY + \Deleted + EXPUNGE, and without UIDPLUS that EXPUNGE
 *   removes every \Deleted message in the folder, other clients' too. `move` checks the
 *   capabilities itself (see MoveResult for the three outcomes).
 * - No command may run while a `fetch()` iterator is consumed (deadlock): batches are collected
 *   completely (`fetchAll`) and only then handed to the caller, outside the operation lock.
 * - `source: true` holds a whole message in memory: full messages are fetched as partial
 *   `BODY.PEEK[]<offset.length>` ranges (RFC 3501 section 6.4.5), which are raw bytes — no
 *   transfer decoding, no charset conversion, no line-end changes.
 * - imapflow's high-level STORE/COPY/MOVE/EXPUNGE/SUBSCRIBE return `false` and drop the
 *   server's NO text; those are sent through `exec` so the user sees the server's words.
 * - The client never reconnects: `close`/`error` events tell the sync engine to make a new session.
 */
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type {
  ExistsEvent,
  ExpungeEvent,
  FetchMessageObject,
  FlagsEvent,
  ListResponse,
  MailboxObject,
  MessageAddressObject,
  MessageEnvelopeObject,
} from 'imapflow';
import { encodePath, normalizePath } from 'imapflow/lib/tools.js';
import type { Address, FolderRole } from '../../../shared/model';
import { MailError } from '../../../shared/errors';
import type { ConnectionTarget } from '../tls-errors';
import type { CommandAttribute, GuardedImapFlow, ParsedResponse } from './guarded-imapflow';
import { toImapError } from './imap-errors';
import {
  DEFAULT_HEADER_FIELDS,
  type AppendResult,
  type ChangeSet,
  type ChangeSince,
  type CopyResult,
  type FlagChange,
  type FolderCounts,
  type HeaderFetchOptions,
  type HeaderFetchSummary,
  type HeaderBatch,
  type ImapSession,
  type MailboxChange,
  type MailboxStatus,
  type MoveResult,
  type QuotaUsage,
  type RawBatch,
  type RawDownload,
  type RawMessages,
  type RemoteEnvelope,
  type RemoteFolder,
  type RemoteMessageHeader,
  type SessionEvents,
  type UidSelection,
} from './imap-mailbox';
import { OperationQueue } from './operation-queue';
import { chunk, formatUidSet, isUid, normalizeUids, parseUidSet } from './uid-set';

/** Bytes per partial FETCH of a full message: large enough for few round trips, small enough to keep memory flat. */
export const RAW_CHUNK_BYTES = 1024 * 1024;
/** fetchRawSmall holds messages in memory: up to this size each... */
export const SMALL_MESSAGE_MAX_BYTES = 1024 * 1024;
/** ...and at most this many bytes per FETCH. */
const SMALL_BATCH_MAX_BYTES = 8 * 1024 * 1024;
/** How long close() waits for the server to acknowledge LOGOUT before dropping the connection. */
const LOGOUT_TIMEOUT_MS = 2_000;
/** While asking IDLE to end before it has started, how often to check again. */
const IDLE_BREAK_RETRY_MS = 25;
/** When IDLE ends on its own sooner than this (refused, dropped), wait this long before the next one. */
const IDLE_RESTART_DELAY_MS = 5_000;

/** RFC 6154 SPECIAL-USE attributes (and imapflow's \Inbox) → our folder roles. */
const ROLE_BY_SPECIAL_USE: Readonly<Record<string, FolderRole>> = {
  '\\Inbox': 'inbox',
  '\\Sent': 'sent',
  '\\Drafts': 'drafts',
  '\\Trash': 'trash',
  '\\Junk': 'junk',
  '\\Archive': 'archive',
};

/**
 * RFC 3501 flag: "\" atom (system flag) or atom (keyword). Atom characters exclude
 * atom-specials: ( ) { SP CTL % * " \ ] — anything else would need quoting, which flags cannot have.
 */
const FLAG_PATTERN = /^\\?[!#$&'+,\-./0-9:;<=>?@A-Z^_`a-z|}~[]+$/;
/** RFC 5322 field-name: printable US-ASCII except colon. */
const HEADER_FIELD_PATTERN = /^[!-9;-~]+$/;

type Listener<K extends keyof SessionEvents> = (...args: SessionEvents[K]) => void;

function validateFlags(flags: readonly string[]): string[] {
  for (const flag of flags) {
    if (typeof flag !== 'string' || !FLAG_PATTERN.test(flag)) {
      throw new MailError('INVALID_INPUT', `“${String(flag)}” is not a valid IMAP flag.`);
    }
  }
  return [...flags];
}

function requireUids(uids: readonly number[]): number[] {
  const sorted = normalizeUids(uids);
  if (sorted.length === 0) throw new MailError('INVALID_INPUT', 'No messages were given.');
  return sorted;
}

function toUidValidity(value: bigint | undefined, host: string): number {
  if (typeof value !== 'bigint' || value < 1n || value > 0xffff_ffffn) {
    throw new MailError('SERVER_ERROR', `${host} did not report a valid UIDVALIDITY for the folder.`, { host });
  }
  return Number(value);
}

function optionalUidValidity(value: bigint | undefined): number | null {
  return typeof value === 'bigint' && value >= 1n && value <= 0xffff_ffffn ? Number(value) : null;
}

function toAddresses(list: MessageAddressObject[] | undefined): Address[] {
  return (list ?? []).map((entry) => ({ name: entry.name ?? '', address: entry.address ?? '' }));
}

function toDate(value: Date | string | undefined): Date | null {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value : null;
}

function toEnvelope(envelope: MessageEnvelopeObject | undefined): RemoteEnvelope {
  return {
    date: toDate(envelope?.date),
    subject: envelope?.subject ?? null,
    messageId: envelope?.messageId ?? null,
    inReplyTo: envelope?.inReplyTo ?? null,
    from: toAddresses(envelope?.from),
    sender: toAddresses(envelope?.sender),
    replyTo: toAddresses(envelope?.replyTo),
    to: toAddresses(envelope?.to),
    cc: toAddresses(envelope?.cc),
    bcc: toAddresses(envelope?.bcc),
  };
}

/**
 * Flags as stored on the server. \Recent is left out: it belongs to one session, cannot be set
 * (RFC 3501 section 2.3.2) and is gone from IMAP4rev2 (RFC 9051), so it must not reach the store.
 */
function storedFlags(flags: Iterable<string> | undefined): string[] {
  return [...(flags ?? [])].filter((flag) => flag.toLowerCase() !== '\\recent');
}

function toHeader(message: FetchMessageObject): RemoteMessageHeader {
  return {
    uid: message.uid,
    flags: storedFlags(message.flags),
    size: message.size ?? 0,
    internalDate: toDate(message.internalDate),
    modseq: message.modseq ?? null,
    envelope: toEnvelope(message.envelope),
    headers: message.headers ?? Buffer.alloc(0),
  };
}

function toRemoteFolder(entry: ListResponse): RemoteFolder {
  const attributes = [...entry.flags];
  const lowerAttributes = attributes.map((attribute) => attribute.toLowerCase());
  const isInbox = entry.path.toUpperCase() === 'INBOX';
  const role = isInbox ? 'inbox' : entry.specialUse ? (ROLE_BY_SPECIAL_USE[entry.specialUse] ?? null) : null;
  let roleSource: RemoteFolder['roleSource'] = null;
  if (isInbox) roleSource = 'inbox';
  else if (role && entry.specialUseSource === 'name') roleSource = 'name';
  else if (role) roleSource = 'special-use';
  return {
    path: entry.path,
    name: entry.name,
    delimiter: entry.delimiter,
    parentPath: entry.parentPath ? entry.parentPath : null,
    role,
    roleSource,
    // imapflow leaves the property unset (not false) for an unsubscribed folder.
    subscribed: entry.subscribed === true,
    selectable: !lowerAttributes.includes('\\noselect') && !lowerAttributes.includes('\\nonexistent'),
    attributes,
  };
}

/** COPYUID (RFC 4315 section 3) from a tagged or untagged OK: `[COPYUID uidvalidity source-set destination-set]`. */
function parseCopyUid(response: ParsedResponse): CopyResult | null {
  const first = response.attributes?.[0] as { section?: unknown } | undefined;
  const section = first && Array.isArray(first.section) ? (first.section as Array<{ value?: unknown } | null>) : null;
  if (!section || String(section[0]?.value ?? '').toUpperCase() !== 'COPYUID') return null;
  const uidValidity = Number(section[1]?.value);
  const source = parseUidSet(String(section[2]?.value ?? ''));
  const destination = parseUidSet(String(section[3]?.value ?? ''));
  if (!isUid(uidValidity) || !source || !destination || source.length !== destination.length) return null;
  return {
    uidMap: new Map(source.map((uid, index) => [uid, destination[index]])),
    destinationUidValidity: uidValidity,
  };
}

function writableError(error: unknown): MailError {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new MailError('DISK_FULL', 'This computer’s disk is full, so the message could not be saved.');
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new MailError('INTERNAL', `The message could not be saved on this computer: ${reason}`);
}

async function writeChunk(writable: Writable, data: Buffer): Promise<void> {
  if (writable.destroyed || writable.errored || writable.writableEnded) {
    throw writableError(writable.errored ?? new Error('the file was closed during the download'));
  }
  if (writable.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      writable.off('drain', onDrain);
      writable.off('error', onError);
      writable.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(writableError(error));
    };
    const onClose = (): void => {
      cleanup();
      reject(writableError(writable.errored ?? new Error('the file was closed during the download')));
    };
    writable.on('drain', onDrain);
    writable.on('error', onError);
    writable.on('close', onClose);
  });
}

export class ImapflowSession implements ImapSession {
  private readonly queue = new OperationQueue();
  private readonly listeners: { [K in keyof SessionEvents]: Set<Listener<K>> } = {
    close: new Set(),
    error: new Set(),
  };
  private effectiveCapabilities: ReadonlySet<string> = new Set();
  private isClosed = false;
  /** The error that ended the connection, reported by commands that fail because of it. */
  private connectionError: MailError | null = null;
  /** What we last selected; checked against imapflow's own state before reuse. */
  private selection: { path: string; writable: boolean } | null = null;

  constructor(
    private readonly client: GuardedImapFlow,
    private readonly target: ConnectionTarget,
    private readonly ignoredCapabilities: readonly string[] = [],
  ) {
    // Both listeners exist before connect(): imapflow emits 'error' on its own (socket timeout,
    // protocol error) and an EventEmitter without an 'error' listener throws.
    client.on('error', (error: unknown) => {
      const mapped = toImapError(error, { ...this.target, certificate: this.client.peerCertificate });
      this.connectionError ??= mapped;
      this.emit('error', mapped);
    });
    client.on('close', () => {
      if (this.isClosed) return;
      this.isClosed = true;
      this.selection = null;
      this.emit('close');
    });
  }

  get capabilities(): ReadonlySet<string> {
    return this.effectiveCapabilities;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Connects, upgrades and logs in; throws a MailError (and leaves nothing open) on failure. */
  async open(): Promise<void> {
    try {
      await this.client.connect();
    } catch (error) {
      const mapped = toImapError(this.client.refusal ?? error, {
        ...this.target,
        certificate: this.client.peerCertificate,
      });
      this.client.close();
      throw mapped;
    }
    const ignored = new Set(this.ignoredCapabilities.map((name) => name.toUpperCase()));
    for (const name of [...this.client.capabilities.keys()]) {
      // Keep imapflow's own checks (e.g. UIDPLUS in its EXPUNGE) in line with ours.
      if (ignored.has(name.toUpperCase())) this.client.capabilities.delete(name);
    }
    this.effectiveCapabilities = new Set([...this.client.capabilities.keys()].map((name) => name.toUpperCase()));
  }

  on<K extends keyof SessionEvents>(event: K, listener: (...args: SessionEvents[K]) => void): () => void {
    const set = this.listeners[event] as Set<Listener<K>>;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  private emit<K extends keyof SessionEvents>(event: K, ...args: SessionEvents[K]): void {
    for (const listener of [...(this.listeners[event] as Set<Listener<K>>)]) listener(...args);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.logout(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, LOGOUT_TIMEOUT_MS);
        }),
      ]);
    } catch {
      // The connection may already be gone; closing is all that is left to do.
    } finally {
      clearTimeout(timer);
      this.client.close();
    }
  }

  // ---- plumbing ---------------------------------------------------------------------------

  private lostError(): MailError {
    return (
      this.connectionError ??
      new MailError('CONNECTION_LOST', `The connection to ${this.target.host}:${this.target.port} was closed.`, {
        host: this.target.host,
        port: this.target.port,
      })
    );
  }

  private mapError(error: unknown, doing: string): MailError {
    const mapped = toImapError(error, { ...this.target, doing });
    if (mapped.code === 'CONNECTION_LOST' && this.connectionError) return this.connectionError;
    return mapped;
  }

  /** One operation at a time on this connection (see OperationQueue), with errors mapped. */
  private operate<T>(doing: string, body: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      if (this.isClosed) throw this.lostError();
      try {
        return await body();
      } catch (error) {
        throw this.mapError(error, doing);
      }
    });
  }

  private sameFolder(left: string, right: string): boolean {
    return normalizePath(this.client, left) === normalizePath(this.client, right);
  }

  /**
   * Makes `path` the selected mailbox: EXAMINE for reading (nothing we do there can change the
   * folder, RFC 3501 section 6.3.2), SELECT when writing. Switching with SELECT/EXAMINE never
   * expunges (RFC 3501 section 6.4.2 note), unlike CLOSE.
   */
  private async ensureSelected(path: string, writable: boolean): Promise<MailboxObject> {
    const current = this.client.mailbox;
    if (
      current &&
      this.selection &&
      this.sameFolder(current.path, path) &&
      this.sameFolder(this.selection.path, path) &&
      (this.selection.writable || !writable)
    ) {
      return current;
    }
    this.selection = null;
    const mailbox = await this.client.mailboxOpen(path, { readOnly: !writable });
    this.selection = { path: mailbox.path, writable: writable && mailbox.readOnly !== true };
    if (writable && mailbox.readOnly === true) {
      throw new MailError('SERVER_ERROR', `${this.target.host} opened ${path} read-only, so it cannot be changed.`, {
        host: this.target.host,
      });
    }
    return mailbox;
  }

  private toStatus(mailbox: MailboxObject): MailboxStatus {
    return {
      path: mailbox.path,
      uidValidity: toUidValidity(mailbox.uidValidity, this.target.host),
      uidNext: mailbox.uidNext ?? 0,
      highestModseq: mailbox.noModseq ? null : (mailbox.highestModseq ?? null),
      exists: mailbox.exists ?? 0,
      readOnly: mailbox.readOnly === true,
      permanentFlags: [...(mailbox.permanentFlags ?? [])],
    };
  }

  private encodedPath(path: string): CommandAttribute {
    return { type: 'STRING', value: encodePath(this.client, normalizePath(this.client, path)) };
  }

  private async run(command: string, attributes: CommandAttribute[] | false): Promise<ParsedResponse> {
    const result = await this.client.exec(command, attributes);
    result.next();
    return result.response;
  }

  // ---- folders ----------------------------------------------------------------------------

  listFolders(): Promise<RemoteFolder[]> {
    return this.operate('listing the folders', async () => (await this.client.list()).map(toRemoteFolder));
  }

  select(path: string, options: { readOnly?: boolean } = {}): Promise<MailboxStatus> {
    return this.operate(`opening ${path}`, async () => {
      this.selection = null;
      const writable = options.readOnly !== true;
      const mailbox = await this.client.mailboxOpen(path, { readOnly: !writable });
      this.selection = { path: mailbox.path, writable: writable && mailbox.readOnly !== true };
      return this.toStatus(mailbox);
    });
  }

  status(path: string): Promise<FolderCounts> {
    return this.operate(`reading the counts of ${path}`, async () => {
      const status = await this.client.status(path, {
        messages: true,
        unseen: true,
        uidNext: true,
        uidValidity: true,
        highestModseq: true,
      });
      if (!status) throw new MailError('SERVER_ERROR', `${this.target.host} did not report the counts of ${path}.`);
      return {
        path: status.path,
        messages: status.messages ?? 0,
        unseen: status.unseen ?? 0,
        uidValidity: toUidValidity(status.uidValidity, this.target.host),
        uidNext: status.uidNext ?? 0,
        highestModseq: status.highestModseq ?? null,
      };
    });
  }

  createFolder(path: string): Promise<{ created: boolean }> {
    return this.operate(`creating the folder ${path}`, async () => {
      const result = await this.client.mailboxCreate(path);
      return { created: result.created };
    });
  }

  /**
   * imapflow sends CLOSE before RENAME/DELETE of the selected folder. Re-opening it read-only
   * first makes that CLOSE harmless (RFC 3501 section 6.4.2: nothing is expunged from a folder
   * opened with EXAMINE).
   */
  private async defuseImplicitClose(path: string): Promise<void> {
    const current = this.client.mailbox;
    if (current && this.sameFolder(current.path, path) && this.selection?.writable !== false) {
      this.selection = null;
      const mailbox = await this.client.mailboxOpen(path, { readOnly: true });
      this.selection = { path: mailbox.path, writable: false };
    }
  }

  renameFolder(path: string, newPath: string): Promise<void> {
    return this.operate(`renaming the folder ${path}`, async () => {
      await this.defuseImplicitClose(path);
      await this.client.mailboxRename(path, newPath);
      this.selection = null;
    });
  }

  deleteFolder(path: string): Promise<void> {
    return this.operate(`deleting the folder ${path}`, async () => {
      await this.defuseImplicitClose(path);
      await this.client.mailboxDelete(path);
      this.selection = null;
    });
  }

  setSubscribed(path: string, subscribed: boolean): Promise<void> {
    return this.operate(`${subscribed ? 'subscribing to' : 'unsubscribing from'} ${path}`, async () => {
      await this.run(subscribed ? 'SUBSCRIBE' : 'UNSUBSCRIBE', [this.encodedPath(path)]);
    });
  }

  quota(path: string): Promise<QuotaUsage | null> {
    return this.operate(`reading the quota of ${path}`, async () => {
      if (!this.effectiveCapabilities.has('QUOTA')) return null;
      const quota = await this.client.getQuota(path);
      if (!quota) throw new MailError('SERVER_ERROR', `${this.target.host} did not report the quota of ${path}.`);
      const storage = quota.storage;
      if (!storage || typeof storage.limit !== 'number' || typeof storage.usage !== 'number') return null;
      return { usage: storage.usage, limit: storage.limit };
    });
  }

  // ---- listing messages --------------------------------------------------------------------

  private async selectedUids(selection: UidSelection): Promise<number[]> {
    if ('uids' in selection) return normalizeUids(selection.uids);
    const { from, to } = selection;
    if (!isUid(from) || (to !== undefined && (!isUid(to) || to < from))) {
      throw new MailError('INVALID_INPUT', 'The range of messages to list is not valid.');
    }
    const found = await this.client.search({ uid: `${from}:${to ?? '*'}` }, { uid: true });
    if (!Array.isArray(found)) throw new MailError('SERVER_ERROR', `${this.target.host} could not list the messages.`);
    // RFC 3501 section 6.4.8: "*" is the highest UID in the folder, so "N:*" also matches that
    // message when every UID is below N. Keep only what was asked for.
    return normalizeUids(found.filter((uid) => uid >= from && (to === undefined || uid <= to)));
  }

  async fetchHeaders(
    path: string,
    selection: UidSelection,
    options: HeaderFetchOptions,
    onBatch: (batch: HeaderBatch) => Promise<void> | void,
  ): Promise<HeaderFetchSummary> {
    const headerFields = [...(options.headerFields ?? DEFAULT_HEADER_FIELDS)];
    for (const field of headerFields) {
      if (!HEADER_FIELD_PATTERN.test(field)) throw new MailError('INVALID_INPUT', `“${field}” is not a header name.`);
    }
    const doing = `listing the messages in ${path}`;
    const { uids, uidValidity } = await this.operate(doing, async () => {
      const mailbox = await this.ensureSelected(path, false);
      return {
        uids: await this.selectedUids(selection),
        uidValidity: toUidValidity(mailbox.uidValidity, this.target.host),
      };
    });
    const missing: number[] = [];
    let done = 0;
    for (const batchUids of chunk(uids, options.batchSize)) {
      // The lock is held for one FETCH only: the caller's onBatch may use this session too.
      const messages = await this.operate(doing, async () => {
        const mailbox = await this.ensureSelected(path, false);
        if (toUidValidity(mailbox.uidValidity, this.target.host) !== uidValidity) {
          throw new MailError(
            'SERVER_ERROR',
            `${this.target.host} renumbered the messages in ${path} (UIDVALIDITY changed) while they were listed; the folder has to be read again.`,
            { host: this.target.host },
          );
        }
        const fetched = await this.client.fetchAll(
          formatUidSet(batchUids),
          { uid: true, flags: true, envelope: true, size: true, internalDate: true, headers: headerFields },
          { uid: true },
        );
        return fetched.filter((message) => isUid(message.uid)).map(toHeader);
      });
      messages.sort((left, right) => left.uid - right.uid);
      const received = new Set(messages.map((message) => message.uid));
      missing.push(...batchUids.filter((uid) => !received.has(uid)));
      done += messages.length;
      await onBatch({ path, uidValidity, messages, done, total: uids.length });
    }
    return { path, uidValidity, missing, fetched: done };
  }

  fetchChanges(path: string, since: ChangeSince): Promise<ChangeSet> {
    return this.operate(`checking ${path} for changes`, async () => {
      // A fresh EXAMINE every time: its HIGHESTMODSEQ is the value to store for the next sync
      // (RFC 7162 section 3.1.2.1), read before the changes below are fetched.
      this.selection = null;
      const mailbox = await this.client.mailboxOpen(path, { readOnly: true });
      this.selection = { path: mailbox.path, writable: false };
      const status = this.toStatus(mailbox);
      const known = normalizeUids(since.knownUids);
      const condstore =
        this.effectiveCapabilities.has('CONDSTORE') &&
        this.client.enabled.has('CONDSTORE') &&
        status.highestModseq !== null &&
        since.modseq !== null &&
        since.modseq > 0n;
      const qresync = condstore && this.effectiveCapabilities.has('QRESYNC') && this.client.enabled.has('QRESYNC');
      const method: ChangeSet['method'] = qresync ? 'qresync' : condstore ? 'condstore' : 'full';
      const empty: ChangeSet = { status, uidValidityChanged: false, method, changed: [], vanished: [] };
      if (status.uidValidity !== since.uidValidity) return { ...empty, uidValidityChanged: true };
      if (known.length === 0) return empty;
      // RFC 7162 section 3.2.10: with QRESYNC every change, expunges included, raises HIGHESTMODSEQ.
      if (qresync && status.highestModseq === since.modseq) return empty;

      const knownSet = formatUidSet(known);
      const knownLookup = new Set(known);
      const vanished = new Set<number>();
      const onExpunge = (event: ExpungeEvent): void => {
        if (
          event.vanished &&
          event.uid !== undefined &&
          knownLookup.has(event.uid) &&
          this.sameFolder(event.path, path)
        ) {
          vanished.add(event.uid);
        }
      };
      let fetched: FetchMessageObject[];
      this.client.on('expunge', onExpunge);
      try {
        // With QRESYNC, VANISHED (EARLIER) for the requested UIDs arrives during this FETCH
        // (RFC 7162 section 3.2.6) and imapflow reports it as 'expunge' events.
        fetched = await this.client.fetchAll(
          knownSet,
          { uid: true, flags: true },
          condstore && since.modseq !== null ? { uid: true, changedSince: since.modseq } : { uid: true },
        );
      } finally {
        this.client.off('expunge', onExpunge);
      }
      const changed: FlagChange[] = fetched
        .filter((message) => knownLookup.has(message.uid) && !vanished.has(message.uid))
        .map((message) => ({ uid: message.uid, flags: storedFlags(message.flags), modseq: message.modseq ?? null }))
        .sort((left, right) => left.uid - right.uid);
      if (method === 'full') {
        const present = new Set(changed.map((change) => change.uid));
        return { ...empty, changed, vanished: known.filter((uid) => !present.has(uid)) };
      }
      if (method === 'condstore') {
        // CONDSTORE alone says nothing about expunges: ask which known UIDs still exist.
        const existing = await this.client.search({ uid: knownSet }, { uid: true });
        if (!Array.isArray(existing))
          throw new MailError('SERVER_ERROR', `${this.target.host} could not list the messages.`);
        const present = new Set(existing);
        return { ...empty, changed, vanished: known.filter((uid) => !present.has(uid)) };
      }
      return { ...empty, changed, vanished: [...vanished].sort((left, right) => left - right) };
    });
  }

  // ---- message bytes ------------------------------------------------------------------------

  downloadRaw(path: string, uid: number, writable: Writable): Promise<RawDownload> {
    if (!isUid(uid)) return Promise.reject(new MailError('INVALID_INPUT', `${String(uid)} is not a message UID.`));
    return this.operate(`downloading a message from ${path}`, async () => {
      await this.ensureSelected(path, false);
      const hash = createHash('sha256');
      let offset = 0;
      let expectedSize: number | null = null;
      for (;;) {
        const message = await this.client.fetchOne(
          String(uid),
          { uid: true, size: expectedSize === null, source: { start: offset, maxLength: RAW_CHUNK_BYTES } },
          { uid: true },
        );
        if (!message) {
          throw new MailError('NOT_FOUND', `The message is no longer in ${path} on ${this.target.host}.`, {
            host: this.target.host,
          });
        }
        if (expectedSize === null) {
          if (typeof message.size !== 'number') {
            throw new MailError('SERVER_ERROR', `${this.target.host} did not report the size of the message.`);
          }
          expectedSize = message.size;
        }
        const data = message.source ?? Buffer.alloc(0);
        if (data.length > RAW_CHUNK_BYTES || offset + data.length > expectedSize) {
          throw new MailError(
            'SIZE_MISMATCH',
            `${this.target.host} sent more of the message than it announced (${expectedSize} bytes); it was not saved.`,
            { host: this.target.host },
          );
        }
        if (data.length > 0) {
          hash.update(data);
          offset += data.length;
          await writeChunk(writable, data);
        }
        // A short range is the end of the message (RFC 3501 section 6.4.5, partial fetch).
        if (data.length < RAW_CHUNK_BYTES) break;
      }
      if (offset !== expectedSize) {
        throw new MailError(
          'SIZE_MISMATCH',
          `${this.target.host} announced ${expectedSize} bytes but sent ${offset}; the message was not saved.`,
          { host: this.target.host },
        );
      }
      writable.end();
      try {
        await finished(writable, { readable: false });
      } catch (error) {
        throw writableError(error);
      }
      return { size: offset, sha256: hash.digest('hex') };
    });
  }

  fetchRawSmall(path: string, uids: readonly number[]): Promise<RawMessages> {
    return this.operate(`fetching messages from ${path}`, async () => {
      const wanted = requireUids(uids);
      await this.ensureSelected(path, false);
      const sized = await this.client.fetchAll(formatUidSet(wanted), { uid: true, size: true }, { uid: true });
      const sizeOf = new Map<number, number>();
      for (const message of sized)
        if (isUid(message.uid) && typeof message.size === 'number') sizeOf.set(message.uid, message.size);
      const tooLarge = wanted.filter((uid) => (sizeOf.get(uid) ?? 0) > SMALL_MESSAGE_MAX_BYTES);
      const small = wanted.filter((uid) => sizeOf.has(uid) && (sizeOf.get(uid) ?? 0) <= SMALL_MESSAGE_MAX_BYTES);
      const batches: number[][] = [];
      let current: number[] = [];
      let currentBytes = 0;
      for (const uid of small) {
        const size = sizeOf.get(uid) ?? 0;
        if (current.length > 0 && currentBytes + size > SMALL_BATCH_MAX_BYTES) {
          batches.push(current);
          current = [];
          currentBytes = 0;
        }
        current.push(uid);
        currentBytes += size;
      }
      if (current.length > 0) batches.push(current);
      const messages = new Map<number, Buffer>();
      for (const batch of batches) {
        const fetched = await this.client.fetchAll(formatUidSet(batch), { uid: true, source: true }, { uid: true });
        for (const message of fetched) {
          if (!isUid(message.uid) || !message.source || !sizeOf.has(message.uid)) continue;
          if (message.source.length !== sizeOf.get(message.uid)) {
            throw new MailError(
              'SIZE_MISMATCH',
              `${this.target.host} announced ${sizeOf.get(message.uid)} bytes for a message but sent ${message.source.length}.`,
              { host: this.target.host },
            );
          }
          messages.set(message.uid, message.source);
        }
      }
      const missing = wanted.filter((uid) => !messages.has(uid) && !tooLarge.includes(uid));
      return { messages, tooLarge, missing };
    });
  }

  fetchRawBatch(
    path: string,
    uids: readonly number[],
    onMessage?: (uid: number, source: Buffer) => void,
  ): Promise<RawBatch> {
    return this.operate(`downloading messages from ${path}`, async () => {
      const wanted = requireUids(uids);
      await this.ensureSelected(path, false);
      const wantedSet = new Set(wanted);
      const result: RawBatch = { messages: new Map(), failed: new Map(), missing: [], bytes: 0 };
      // fetchAll's loop, with each message handed on as it arrives. No command runs inside it (see
      // the file comment): onMessage must not use the session.
      for await (const message of this.client.fetch(
        formatUidSet(wanted),
        { uid: true, size: true, source: true },
        { uid: true },
      )) {
        // A FETCH for another UID (unsolicited, RFC 3501 section 7.4.2) or without bytes is not an answer.
        if (!isUid(message.uid) || !wantedSet.has(message.uid) || !message.source) continue;
        result.bytes += message.source.length;
        if (typeof message.size !== 'number' || message.source.length !== message.size) {
          const announced = typeof message.size === 'number' ? `${message.size} bytes` : 'no size';
          result.failed.set(
            message.uid,
            new MailError(
              'SIZE_MISMATCH',
              `${this.target.host} announced ${announced} for a message in ${path} but sent ${message.source.length}; it was not saved.`,
              { host: this.target.host },
            ),
          );
          continue;
        }
        if (result.messages.has(message.uid)) continue;
        result.messages.set(message.uid, message.source);
        onMessage?.(message.uid, message.source);
      }
      result.missing = wanted.filter((uid) => !result.messages.has(uid) && !result.failed.has(uid));
      return result;
    });
  }

  // ---- changing messages ------------------------------------------------------------------

  append(
    path: string,
    message: Buffer,
    options: { flags?: readonly string[]; internalDate?: Date } = {},
  ): Promise<AppendResult> {
    return this.operate(`saving a message to ${path}`, async () => {
      const flags = validateFlags(options.flags ?? []);
      // imapflow keeps only the flags the *selected* mailbox's PERMANENTFLAGS allow, whatever the
      // destination; a folder opened with EXAMINE allows none (RFC 3501 section 7.1), so every
      // flag would be dropped silently. Selecting the destination checks them against the right folder.
      if (flags.length > 0) await this.ensureSelected(path, true);
      const result = await this.client.append(path, message, flags, options.internalDate);
      if (!result) throw new MailError('SERVER_ERROR', `${this.target.host} did not store the message in ${path}.`);
      return { uid: isUid(result.uid) ? result.uid : null, uidValidity: optionalUidValidity(result.uidValidity) };
    });
  }

  private async copyUids(uids: number[], destination: string): Promise<CopyResult> {
    const response = await this.run('UID COPY', [
      { type: 'SEQUENCE', value: formatUidSet(uids) },
      this.encodedPath(destination),
    ]);
    return parseCopyUid(response) ?? { uidMap: null, destinationUidValidity: null };
  }

  private async store(uids: number[], operation: string, flags: string[]): Promise<void> {
    await this.run('UID STORE', [
      { type: 'SEQUENCE', value: formatUidSet(uids) },
      { type: 'ATOM', value: operation },
      flags.map((flag) => ({ type: 'ATOM' as const, value: flag })),
    ]);
  }

  copy(path: string, uids: readonly number[], destination: string): Promise<CopyResult> {
    return this.operate(`copying messages to ${destination}`, async () => {
      const sorted = requireUids(uids);
      await this.ensureSelected(path, false);
      return this.copyUids(sorted, destination);
    });
  }

  move(path: string, uids: readonly number[], destination: string): Promise<MoveResult> {
    return this.operate(`moving messages to ${destination}`, async () => {
      const sorted = requireUids(uids);
      await this.ensureSelected(path, true);
      if (this.effectiveCapabilities.has('MOVE')) {
        // RFC 6851 section 4.3: COPYUID comes in an untagged OK before the expunges, or in the tagged OK.
        let copyUid: CopyResult | null = null;
        const result = await this.client.exec(
          'UID MOVE',
          [{ type: 'SEQUENCE', value: formatUidSet(sorted) }, this.encodedPath(destination)],
          {
            untagged: {
              OK: (response) => {
                copyUid ??= parseCopyUid(response);
              },
            },
          },
        );
        result.next();
        copyUid ??= parseCopyUid(result.response);
        const mapping: CopyResult = copyUid ?? { uidMap: null, destinationUidValidity: null };
        return { ...mapping, method: 'move', sourceRemoved: true };
      }
      // If the copy fails the originals are untouched: the error propagates from here.
      const copied = await this.copyUids(sorted, destination);
      try {
        await this.store(sorted, '+FLAGS.SILENT', ['\\Deleted']);
        if (this.effectiveCapabilities.has('UIDPLUS')) {
          // RFC 4315 section 2.1: removes exactly these UIDs, whatever else is marked \Deleted.
          await this.run('UID EXPUNGE', [{ type: 'SEQUENCE', value: formatUidSet(sorted) }]);
          return { ...copied, method: 'copy-expunge', sourceRemoved: true };
        }
      } catch (error) {
        const mapped = this.mapError(error, `removing the moved messages from ${path}`);
        throw new MailError(
          mapped.code,
          `The messages were copied to ${destination}, but removing them from ${path} failed: ${mapped.message}`,
          mapped.details,
        );
      }
      // No UIDPLUS: a plain EXPUNGE would also remove other \Deleted messages (other clients'
      // included). The originals stay, flagged \Deleted, and the caller is told so.
      return { ...copied, method: 'copy-flag', sourceRemoved: false };
    });
  }

  setFlags(path: string, uids: readonly number[], flags: readonly string[]): Promise<void> {
    return this.changeFlags(path, uids, 'FLAGS.SILENT', flags);
  }

  addFlags(path: string, uids: readonly number[], flags: readonly string[]): Promise<void> {
    return this.changeFlags(path, uids, '+FLAGS.SILENT', flags);
  }

  removeFlags(path: string, uids: readonly number[], flags: readonly string[]): Promise<void> {
    return this.changeFlags(path, uids, '-FLAGS.SILENT', flags);
  }

  private changeFlags(
    path: string,
    uids: readonly number[],
    operation: string,
    flags: readonly string[],
  ): Promise<void> {
    return this.operate(`changing flags in ${path}`, async () => {
      const valid = validateFlags(flags);
      const sorted = requireUids(uids);
      await this.ensureSelected(path, true);
      await this.store(sorted, operation, valid);
    });
  }

  expungeUids(path: string, uids: readonly number[]): Promise<void> {
    return this.operate(`deleting messages from ${path}`, async () => {
      const sorted = requireUids(uids);
      if (!this.effectiveCapabilities.has('UIDPLUS')) {
        throw new MailError(
          'SERVER_ERROR',
          `${this.target.host} cannot delete single messages for good (it lacks UIDPLUS, RFC 4315) without also removing every other message marked deleted in ${path}.`,
          { host: this.target.host },
        );
      }
      await this.ensureSelected(path, true);
      await this.store(sorted, '+FLAGS.SILENT', ['\\Deleted']);
      await this.run('UID EXPUNGE', [{ type: 'SEQUENCE', value: formatUidSet(sorted) }]);
    });
  }

  // ---- IDLE -----------------------------------------------------------------------------------

  /** Ends the running IDLE (imapflow sends DONE before the next command); waits until IDLE has begun. */
  private breakIdle(idle: { ended: boolean }): void {
    const attempt = (): void => {
      if (idle.ended || this.isClosed) return;
      if (this.client.idling) {
        this.client.noop().catch(() => undefined);
        return;
      }
      setTimeout(attempt, IDLE_BREAK_RETRY_MS).unref();
    };
    attempt();
  }

  async idle(path: string, onChange: (change: MailboxChange) => void, signal: AbortSignal): Promise<void> {
    const inFolder = (eventPath: string): boolean => this.sameFolder(eventPath, path);
    const onExists = (event: ExistsEvent): void => {
      if (inFolder(event.path)) onChange({ kind: 'exists', path, count: event.count });
    };
    const onExpunge = (event: ExpungeEvent): void => {
      if (inFolder(event.path)) onChange({ kind: 'expunge', path, uid: event.uid ?? null, seq: event.seq ?? null });
    };
    const onFlags = (event: FlagsEvent): void => {
      if (inFolder(event.path)) {
        onChange({
          kind: 'flags',
          path,
          uid: event.uid ?? null,
          flags: storedFlags(event.flags),
          modseq: event.modseq ?? null,
        });
      }
    };
    this.client.on('exists', onExists);
    this.client.on('expunge', onExpunge);
    this.client.on('flags', onFlags);
    try {
      while (!signal.aborted && !this.isClosed) {
        const startedAt = Date.now();
        const endedByItself = await this.operate(`watching ${path}`, async () => {
          await this.ensureSelected(path, false);
          if (signal.aborted) return false;
          const state = { ended: false, interrupted: false };
          const interrupt = (): void => {
            state.interrupted = true;
            this.breakIdle(state);
          };
          const stopContention = this.queue.onContention(interrupt);
          signal.addEventListener('abort', interrupt, { once: true });
          try {
            await this.client.idle();
          } finally {
            state.ended = true;
            stopContention();
            signal.removeEventListener('abort', interrupt);
          }
          return !state.interrupted;
        }).catch((error: unknown) => {
          // The connection closing ends watching quietly: the 'close' event tells the owner.
          if (this.isClosed) return false;
          throw error;
        });
        // IDLE that ends at once by itself was refused or broken by the server: do not spin.
        const endedEarly = Date.now() - startedAt < IDLE_RESTART_DELAY_MS;
        if (endedByItself && endedEarly && !signal.aborted && !this.isClosed) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, IDLE_RESTART_DELAY_MS);
            const stopOnClose = this.on('close', done);
            function done(): void {
              clearTimeout(timer);
              stopOnClose();
              signal.removeEventListener('abort', done);
              resolve();
            }
            signal.addEventListener('abort', done, { once: true });
          });
        }
      }
    } finally {
      this.client.off('exists', onExists);
      this.client.off('expunge', onExpunge);
      this.client.off('flags', onFlags);
    }
  }
}
