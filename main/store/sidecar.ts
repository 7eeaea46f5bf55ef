/**
 * What the Maildir carries besides message files, so that the index can be rebuilt from it:
 * - `<account>/.whereabouts-account.json`: the account's settings (never a secret);
 * - `<account>/<folder>/.whereabouts-folder.json`: which folder this directory is;
 * - `<account>/.whereabouts-pop-uidls`: an append-only journal of POP3 UIDLs whose server copy
 *   exists while no local file carries the UIDL in its name (the local copy was deleted, RFC 1939
 *   leave-a-copy), and of UIDLs deleted on the server. With the `P=` names it restores every UIDL
 *   we must not download again.
 * Names start with a dot so Maildir readers (which only look in tmp/new/cur) ignore them.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Account, FolderKind, FolderRole } from '../../shared/model';
import { appendLineDurably, writeFileDurably } from './maildir';

export const ACCOUNT_SIDECAR = '.whereabouts-account.json';
export const FOLDER_SIDECAR = '.whereabouts-folder.json';
export const POP_JOURNAL = '.whereabouts-pop-uidls';
const SIDECAR_FORMAT = 1;

export interface FolderSidecar {
  id: string;
  accountId: string;
  kind: FolderKind;
  path: string;
  name: string;
  delimiter: string;
  role: FolderRole | null;
  subscribed: boolean;
  keepOffline: boolean;
}

const FOLDER_ROLES: readonly string[] = ['inbox', 'sent', 'drafts', 'trash', 'junk', 'archive', 'outbox'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

export async function writeFolderSidecar(folderDir: string, folder: FolderSidecar): Promise<void> {
  await writeFileDurably(join(folderDir, FOLDER_SIDECAR), `${JSON.stringify({ format: SIDECAR_FORMAT, ...folder })}\n`);
}

export async function readFolderSidecar(folderDir: string): Promise<FolderSidecar | null> {
  const value = await readJson(join(folderDir, FOLDER_SIDECAR));
  if (!isObject(value)) return null;
  const { id, accountId, kind, path, name, delimiter, role, subscribed, keepOffline } = value;
  if (typeof id !== 'string' || typeof accountId !== 'string' || typeof path !== 'string') return null;
  if (kind !== 'server' && kind !== 'local') return null;
  return {
    id,
    accountId,
    kind,
    path,
    name: typeof name === 'string' ? name : path,
    delimiter: typeof delimiter === 'string' ? delimiter : '/',
    role: typeof role === 'string' && FOLDER_ROLES.includes(role) ? (role as FolderRole) : null,
    subscribed: subscribed !== false,
    keepOffline: keepOffline === true,
  };
}

export async function writeAccountSidecar(accountDir: string, account: Account): Promise<void> {
  await writeFileDurably(join(accountDir, ACCOUNT_SIDECAR), `${JSON.stringify({ format: SIDECAR_FORMAT, account })}\n`);
}

/** The account as stored; its settings are checked by the accounts module when it loads them. */
export async function readAccountSidecar(accountDir: string): Promise<Account | null> {
  const value = await readJson(join(accountDir, ACCOUNT_SIDECAR));
  if (!isObject(value) || !isObject(value.account)) return null;
  const account = value.account;
  if (typeof account.id !== 'string' || (account.mode !== 'imap' && account.mode !== 'pop3')) return null;
  if (typeof account.createdAt !== 'string') return null;
  return account as unknown as Account;
}

export type PopJournalEntry = { kind: 'kept'; uidl: string; at: string } | { kind: 'gone'; uidl: string; at: string };

function encodeJournalUidl(uidl: string): string {
  return Buffer.from(uidl, 'utf8').toString('base64url');
}

export async function appendPopJournal(accountDir: string, entries: readonly PopJournalEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const lines = entries.map((entry) => `${entry.kind} ${encodeJournalUidl(entry.uidl)} ${entry.at}`);
  await appendLineDurably(join(accountDir, POP_JOURNAL), lines.join('\n'));
}

/** Journal entries in order; a torn last line (crash during append) is skipped. */
export async function readPopJournal(accountDir: string): Promise<PopJournalEntry[]> {
  let text: string;
  try {
    text = await readFile(join(accountDir, POP_JOURNAL), 'utf8');
  } catch {
    return [];
  }
  const entries: PopJournalEntry[] = [];
  for (const line of text.split('\n')) {
    const [kind, encoded, at] = line.split(' ');
    if ((kind !== 'kept' && kind !== 'gone') || !encoded || !at || !/^[A-Za-z0-9_-]+$/.test(encoded)) continue;
    if (!Number.isFinite(Date.parse(at))) continue;
    entries.push({ kind, uidl: Buffer.from(encoded, 'base64url').toString('utf8'), at });
  }
  return entries;
}
