/**
 * What this computer knows about each UIDL of a POP3 account, gathered once per session from the
 * store: the UIDL state (every UIDL ever downloaded, RFC 1939 §7), the messages that carry a UIDL,
 * and two lists the engine keeps in the store's sync state:
 * - adopted: UIDLs whose bytes were already here when POP3 first saw them (a message stored in
 *   IMAP mode before a switch back to POP3), matched by size and exact header bytes, so they are
 *   not downloaded again;
 * - headersListed: UIDLs stored as headers only (TOP), so that one the user deleted here is not
 *   fetched again.
 */
import { open } from 'node:fs/promises';
import type { MessageRecord, MessageStore, PopUidlRecord } from '../../store/message-store';
import { lookUpUidl } from './pop3-session';

const ADOPTED_KEY = 'pop3.adopted';
const HEADERS_LISTED_KEY = 'pop3.headersListed';

export interface LocalCopy {
  /** The message here that carries this UIDL (or was adopted for it); null when there is none. */
  record: MessageRecord | null;
  /** The whole message was stored here at some point, or adopted: never download it again. */
  known: boolean;
  /** Its full bytes are here now. */
  bytesHere: boolean;
  /** Its bytes were here once, and the user deleted it here. */
  deletedHere: boolean;
  /** When its bytes were stored here (ISO); the start of the leave-on-server days. */
  downloadedAt: string | null;
  adopted: boolean;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((entry) => typeof entry === 'string')
  );
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

export class PopLocalState {
  private constructor(
    private readonly store: MessageStore,
    private readonly accountId: string,
    private readonly downloaded: Map<string, PopUidlRecord>,
    private readonly rows: Map<string, MessageRecord>,
    /**
     * Stored messages in local folders marked as on the server but carrying no UIDL (they came from
     * IMAP mode), by size: what a server message may turn out to be.
     */
    private readonly unclaimed: Map<number, MessageRecord[]>,
    private readonly adopted: Map<string, string>,
    private readonly headersListed: Set<string>,
    /** The same messages as `unclaimed`, as a list (see strandedIds). */
    private readonly stranded: MessageRecord[],
  ) {}

  static load(store: MessageStore, accountId: string): PopLocalState {
    const downloaded = new Map(store.popUidlState(accountId).map((record) => [record.uidl, record]));
    const storedAdopted: unknown = store.getSyncState(accountId, ADOPTED_KEY);
    const adopted = new Map(Object.entries(isStringRecord(storedAdopted) ? storedAdopted : {}));
    const adoptedIds = new Set(adopted.values());
    const headersListed = new Set(stringList(store.getSyncState(accountId, HEADERS_LISTED_KEY)));
    const rows = new Map<string, MessageRecord>();
    const unclaimed = new Map<number, MessageRecord[]>();
    const stranded: MessageRecord[] = [];
    for (const folder of store.listFolderRecords(accountId)) {
      for (const record of store.listFolderMessages(folder.id)) {
        if (record.popUidl !== null) {
          rows.set(record.popUidl, record);
        } else if (
          folder.kind === 'local' &&
          record.localPath !== null &&
          record.onServer &&
          record.imap === null &&
          !adoptedIds.has(record.id)
        ) {
          // Moved here by a switch from IMAP, still marked as on the server (residency/mode-switch.ts).
          const sameSize = unclaimed.get(record.size) ?? [];
          sameSize.push(record);
          unclaimed.set(record.size, sameSize);
          stranded.push(record);
        }
      }
    }
    return new PopLocalState(store, accountId, downloaded, rows, unclaimed, adopted, headersListed, stranded);
  }

  copyOf(uidl: string): LocalCopy {
    const state = lookUpUidl(this.downloaded, uidl);
    const adoptedId = this.adopted.get(uidl);
    const record =
      lookUpUidl(this.rows, uidl) ?? (adoptedId !== undefined ? this.store.getMessageRecord(adoptedId) : null) ?? null;
    const bytesHere = record !== null && record.localPath !== null;
    const downloadedOnce = state !== undefined || adoptedId !== undefined || bytesHere;
    // Only headers were here and the user deleted them: not listed again, but not "deleted here"
    // either — its bytes never were here, so no policy may delete the server's only copy (S6).
    const deletedListing = record === null && this.headersListed.has(uidl);
    const known = downloadedOnce || deletedListing;
    return {
      record,
      known,
      bytesHere,
      deletedHere: downloadedOnce && record === null,
      downloadedAt: state?.downloadedAt ?? record?.downloadedAt ?? null,
      adopted: adoptedId !== undefined,
    };
  }

  /** Every UIDL some message here carries or was adopted for, with that message. */
  carriedUidls(): Array<{ uidl: string; record: MessageRecord }> {
    const carried = [...this.rows].map(([uidl, record]) => ({ uidl, record }));
    for (const [uidl, messageId] of this.adopted) {
      const record = this.store.getMessageRecord(messageId);
      if (record) carried.push({ uidl, record });
    }
    return carried;
  }

  /** Notes a message stored in this session. */
  noteStored(uidl: string, record: MessageRecord): void {
    this.rows.set(uidl, record);
    if (record.localPath !== null) {
      this.downloaded.set(uidl, {
        uidl,
        downloadedAt: record.downloadedAt ?? new Date().toISOString(),
        deletedOnServerAt: null,
      });
    }
  }

  hasUnclaimedOfSize(size: number): boolean {
    return (this.unclaimed.get(size)?.length ?? 0) > 0;
  }

  /**
   * The stored message without a UIDL that is this server message: same size, and its file starts
   * with exactly the header bytes TOP returned (RFC 1939 §7, "TOP n 0"). Message-ID alone is not
   * enough (it repeats, or is missing), and a wrong match under a deleting policy would lose mail.
   */
  async findSameMessage(size: number, headerBytes: Buffer): Promise<MessageRecord | null> {
    for (const candidate of this.unclaimed.get(size) ?? []) {
      if (candidate.localPath === null) continue;
      if (await fileStartsWith(candidate.localPath, headerBytes)) return candidate;
    }
    return null;
  }

  adopt(uidl: string, record: MessageRecord): void {
    this.adopted.set(uidl, record.id);
    const sameSize = this.unclaimed.get(record.size) ?? [];
    this.unclaimed.set(
      record.size,
      sameSize.filter((candidate) => candidate.id !== record.id),
    );
  }

  /**
   * Messages that came from IMAP mode into a local folder still marked as on the server (a switch
   * keeps them so), for which no server message was found by `findSameMessage`: after a complete
   * listing they are known not to be in the maildrop, so they are this computer's only copy.
   */
  strandedIds(): string[] {
    const adoptedIds = new Set(this.adopted.values());
    return this.stranded.filter((record) => !adoptedIds.has(record.id)).map((record) => record.id);
  }

  noteHeadersListed(uidl: string): void {
    this.headersListed.add(uidl);
  }

  /** Saves the adopted and header-listed UIDLs, forgetting those the server no longer has. */
  save(serverUidls: ReadonlySet<string>): void {
    const adopted = Object.fromEntries([...this.adopted].filter(([uidl]) => serverUidls.has(uidl)));
    const headersListed = [...this.headersListed].filter((uidl) => serverUidls.has(uidl));
    this.store.setSyncState(this.accountId, ADOPTED_KEY, adopted);
    this.store.setSyncState(this.accountId, HEADERS_LISTED_KEY, headersListed);
  }
}

async function fileStartsWith(path: string, expected: Buffer): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  try {
    handle = await open(path, 'r');
    const buffer = Buffer.alloc(expected.length);
    const { bytesRead } = await handle.read(buffer, 0, expected.length, 0);
    return bytesRead === expected.length && buffer.equals(expected);
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}
