/**
 * The POP3 side of the common mailbox interface (DESIGN.md): what the sync engine sees of a POP3
 * server. One INBOX, messages addressed by their number in this session (RFC 1939 §5), identified
 * across sessions by UIDL, fetched as raw bytes.
 *
 * Deletions (DELE) take effect only when `quit()` succeeds — RFC 1939 §6, the UPDATE state. A
 * session that ends any other way (`close()`, a lost connection) deletes nothing, which is what
 * makes "download, store durably, then delete" safe.
 */
import type { Writable } from 'node:stream';
import { Pop3Client, type Pop3ConnectOptions } from './pop3-client';

/** What the server said it supports (RFC 2449 CAPA), after login. */
export interface Pop3Capabilities {
  /** False when the server does not know CAPA (plain RFC 1939): then nothing below is known. */
  known: boolean;
  /** Every capability line as sent, e.g. "SASL PLAIN LOGIN". */
  lines: string[];
  stls: boolean;
  pipelining: boolean;
  top: boolean;
  uidl: boolean;
  user: boolean;
  /** RFC 2449 response codes in brackets ([IN-USE], [LOGIN-DELAY]…). */
  responseCodes: boolean;
  /** SASL mechanisms offered (RFC 5034), upper case. */
  saslMechanisms: string[];
  /** RFC 2449 LOGIN-DELAY: minimum seconds between logins, when announced. */
  loginDelaySeconds: number | null;
  /** RFC 2449 EXPIRE: days the server keeps retrieved mail; 'never' when it keeps it forever. */
  expireDays: number | 'never' | null;
}

export interface MailboxStatus {
  messageCount: number;
  totalBytes: number;
}

export interface MessageListing {
  /** The message's number in this session (1-based, RFC 1939 §5). */
  number: number;
  /** Its size in octets as the server counts it on the wire. */
  size: number;
}

export interface MessageIdentity {
  number: number;
  /** The server's unique id for the message, stable across sessions (RFC 1939 §7 UIDL). */
  uid: string;
}

export interface Pop3Mailbox {
  readonly capabilities: Pop3Capabilities;
  stat(): Promise<MailboxStatus>;
  list(): Promise<MessageListing[]>;
  uidl(): Promise<MessageIdentity[]>;
  /** The header and the first `bodyLines` lines of the body (RFC 1939 §7 TOP), raw bytes. */
  top(messageNumber: number, bodyLines: number): Promise<Buffer>;
  /**
   * The message's bytes exactly as the server holds them (dot-stuffing undone). Fails with
   * SIZE_MISMATCH when they do not add up to the size LIST reported.
   */
  retrieve(messageNumber: number): Promise<Buffer>;
  /**
   * Streams the message into `destination` (not ended afterwards), for messages too big to hold
   * in memory; resolves with the byte count once every byte was written and checked against LIST.
   * On SIZE_MISMATCH the destination holds bytes that must be discarded.
   */
  retrieveTo(messageNumber: number, destination: Writable): Promise<number>;
  /**
   * Retrieves many messages, pipelined (RFC 2449) when the server allows it. `onMessage` runs in
   * the order of `messageNumbers`, one at a time; the next messages keep downloading meanwhile.
   */
  retrieveMany(
    messageNumbers: readonly number[],
    onMessage: (messageNumber: number, bytes: Buffer) => Promise<void> | void,
  ): Promise<void>;
  /** Marks a message deleted; it goes away only when `quit()` succeeds. */
  delete(messageNumber: number): Promise<void>;
  /** Unmarks every message marked deleted in this session. */
  reset(): Promise<void>;
  /** Ends the session, applying deletions (RFC 1939 §6). Fails if the server could not apply them. */
  quit(): Promise<void>;
  /** Drops the connection without QUIT: nothing marked deleted is deleted. */
  close(): void;
}

/** Connects, secures (TLS or STLS), logs in and reads the capabilities. */
export async function openPop3Mailbox(options: Pop3ConnectOptions): Promise<Pop3Mailbox> {
  return Pop3Client.connect(options);
}
