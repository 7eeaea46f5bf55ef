/**
 * Server operations queued in the store's action_queue, in the same transaction as the local
 * change they mirror (DESIGN.md "Offline"). The IMAP engine replays the `imap-*` kinds in order
 * (RFC 4549); the POP3 engine carries out `pop3-delete` in its next session.
 *
 * Payloads name messages by what the server knows (folder path, UIDVALIDITY, UID, UIDL) and by
 * the local message id, so a replay can still find a message after a UIDVALIDITY change
 * (Message-ID + size) and never retries blindly what may already have run.
 */
export type ServerActionKind = ServerAction['kind'];

export type ServerAction =
  | { kind: 'imap-flags'; payload: ImapMessageRef & { add: string[]; remove: string[] } }
  | { kind: 'imap-move'; payload: ImapMessageRef & { toPath: string } }
  | { kind: 'imap-copy'; payload: ImapMessageRef & { toPath: string; copy: LocalCopyRef | null } }
  | {
      kind: 'imap-delete';
      payload: ImapMessageRef & { expunge: boolean; trashPath: string | null; after?: string | null };
    }
  | { kind: 'imap-append'; payload: ImapAppendPayload }
  | { kind: 'imap-create-folder'; payload: { path: string } }
  | { kind: 'imap-rename-folder'; payload: { path: string; newPath: string } }
  | { kind: 'imap-delete-folder'; payload: { path: string } }
  | { kind: 'pop3-delete'; payload: { uidl: string } };

export interface ImapMessageRef {
  /** The local message id (store row). */
  messageId: string;
  folderPath: string;
  /**
   * Where the server holds the message when the action was queued. Null while an earlier queued
   * action (a move, an append) has not given it a UID yet: the replay then takes the UID that
   * action produced.
   */
  uidValidity: number | null;
  uid: number | null;
  /** The Message-ID header and size, to find the message again after a UIDVALIDITY change. */
  messageIdHeader: string | null;
  size: number;
}

/**
 * The local row a server-side copy lands in. Its id cannot be known when the action is queued
 * (the row is written in the same transaction), so it is found by its content: the same bytes
 * (SHA-256) in the destination folder, not yet known to the server.
 */
/*
 * `after` on imap-delete: the local id of a message whose queued APPEND must not have failed (a
 * draft's new version): if it failed, the older version is kept on the server instead of deleted.
 */
export interface LocalCopyRef {
  sha256: string;
}

export interface ImapAppendPayload {
  /**
   * The local row to upload; null when the row is written in the same transaction as this
   * action (a copy, a sent message), then found by `sha256` in `toPath`.
   */
  messageId: string | null;
  sha256?: string | null;
  /** Message-ID header and size: how a replay finds an APPEND whose answer was lost (RFC 4549 section 4.2.2). */
  messageIdHeader?: string | null;
  size?: number | null;
  toPath: string;
  /** Flags for the APPEND; the row's flags at replay time win when the row still exists. */
  flags: string[];
}

export function isServerActionKind(kind: string): kind is ServerActionKind {
  return (SERVER_ACTION_KINDS as readonly string[]).includes(kind);
}

export const SERVER_ACTION_KINDS = [
  'imap-flags',
  'imap-move',
  'imap-copy',
  'imap-delete',
  'imap-append',
  'imap-create-folder',
  'imap-rename-folder',
  'imap-delete-folder',
  'pop3-delete',
] as const satisfies readonly ServerActionKind[];
