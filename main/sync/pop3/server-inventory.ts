/**
 * What the POP3 server holds right now and whether each message is here, for the what-if plan of
 * a mode or policy change (SEMANTICS S13, S14). Read-only: nothing is downloaded, deleted or
 * recorded; the session ends with QUIT without a DELE.
 */
import type { EngineContext } from '../engine';
import { PopLocalState } from './local-state';
import { HEADER_ONLY_BODY_LINES, listServerMessages, openAccountMailbox, requirePop3Account } from './pop3-session';

export type ServerCopyState =
  /** Downloaded by POP3; the full bytes are here. */
  | 'stored'
  /** The same bytes are here from IMAP mode (same size, same header bytes): never downloaded again. */
  | 'same-bytes-here'
  /** Only the headers are here (TOP, or too large for the size limit). */
  | 'headers-only'
  /** Downloaded once; the user deleted it here (or evicted the local copy). */
  | 'deleted-here'
  /** Not here at all: the next pass downloads it. */
  | 'new';

export interface Pop3InventoryEntry {
  uidl: string;
  /** Octets, as LIST reports them. */
  size: number;
  state: ServerCopyState;
  /** Whether the message's full bytes are on this computer. */
  bytesHere: boolean;
  /** The local message (store id), when there is one. */
  messageId: string | null;
}

export async function listPop3Inventory(context: EngineContext): Promise<Pop3InventoryEntry[]> {
  const account = requirePop3Account(context.account());
  const mailbox = await openAccountMailbox(context);
  try {
    const server = await listServerMessages(mailbox);
    const local = PopLocalState.load(context.store, account.id);
    const entries: Pop3InventoryEntry[] = [];
    for (const message of server) {
      const copy = local.copyOf(message.uidl);
      const base = { uidl: message.uidl, size: message.size, messageId: copy.record?.id ?? null };
      if (copy.bytesHere) {
        entries.push({ ...base, state: copy.adopted ? 'same-bytes-here' : 'stored', bytesHere: true });
      } else if (copy.known) {
        entries.push({ ...base, state: 'deleted-here', bytesHere: false });
      } else if (copy.record !== null) {
        entries.push({ ...base, state: 'headers-only', bytesHere: false });
      } else {
        let same = null;
        if (local.hasUnclaimedOfSize(message.size)) {
          same = await local.findSameMessage(message.size, await mailbox.top(message.number, HEADER_ONLY_BODY_LINES));
          if (same) local.adopt(message.uidl, same);
        }
        entries.push(
          same
            ? { ...base, state: 'same-bytes-here', bytesHere: true, messageId: same.id }
            : { ...base, state: 'new', bytesHere: false },
        );
      }
    }
    await mailbox.quit();
    return entries;
  } catch (error) {
    mailbox.close();
    throw error;
  }
}
