/**
 * The account configuration: `<profileDir>/accounts.json`, replaced atomically on every change.
 * Input is validated before anything is written, so bad input leaves the file as it was; the file is
 * validated again when read, because people (and other tools) edit it by hand. Passwords are never
 * here: they live in the SecretStore (secret-store.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MailError } from '../../shared/errors';
import type { Account, AccountSettings } from '../../shared/model';
import { fileError, SerialQueue, writeFileAtomic } from './atomic-file';
import { validateAccountSettings } from './account-settings';

export { parseFingerprint, validateAccountSettings } from './account-settings';

export const ACCOUNTS_FILE_NAME = 'accounts.json';
/** Bumped when the file's shape changes incompatibly; a newer file is refused rather than mangled. */
const FILE_FORMAT_VERSION = 1;

interface AccountsFile {
  version: number;
  accounts: Account[];
}

export type AccountsListener = (accounts: Account[]) => void;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class AccountStore {
  readonly filePath: string;
  private readonly queue = new SerialQueue();
  private readonly listeners = new Set<AccountsListener>();

  constructor(readonly profileDir: string) {
    this.filePath = path.join(profileDir, ACCOUNTS_FILE_NAME);
  }

  async list(): Promise<Account[]> {
    return await this.queue.run(() => this.read());
  }

  /** The account with `id`; MailError NOT_FOUND when there is none. */
  async get(id: string): Promise<Account> {
    const accounts = await this.list();
    return findAccount(accounts, id);
  }

  /** Validates `input` as AccountSettings and saves it as a new account with a fresh id. */
  async add(input: unknown): Promise<Account> {
    const settings = validateAccountSettings(input);
    return await this.change((accounts) => {
      const account: Account = { id: randomUUID(), createdAt: new Date().toISOString(), ...settings };
      return { accounts: [...accounts, account], result: account };
    });
  }

  /**
   * Changes some settings of an account: `changes` holds the fields to replace (top level, e.g. a
   * whole `smtp` endpoint); the combined settings are validated as a whole.
   */
  async update(id: string, changes: unknown): Promise<Account> {
    if (!isRecord(changes)) throw new MailError('INVALID_INPUT', 'The changes to an account must be an object.');
    return await this.change((accounts) => {
      const existing = findAccount(accounts, id);
      const { id: _id, createdAt: _createdAt, ...current } = existing;
      const settings = validateAccountSettings({ ...current, ...changes });
      const updated: Account = { id: existing.id, createdAt: existing.createdAt, ...settings };
      return { accounts: accounts.map((account) => (account.id === id ? updated : account)), result: updated };
    });
  }

  /** Removes the account's settings (its mail and secrets are the caller's to remove). */
  async remove(id: string): Promise<void> {
    await this.change((accounts) => {
      findAccount(accounts, id);
      return { accounts: accounts.filter((account) => account.id !== id), result: undefined };
    });
  }

  /** Called with the new list after every successful change; returns the unsubscribe function. */
  subscribe(listener: AccountsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async change<T>(apply: (accounts: Account[]) => { accounts: Account[]; result: T }): Promise<T> {
    const { accounts, result } = await this.queue.run(async () => {
      const outcome = apply(await this.read());
      await this.write(outcome.accounts);
      return outcome;
    });
    for (const listener of this.listeners) listener(accounts);
    return result;
  }

  private async read(): Promise<Account[]> {
    let text: string;
    try {
      text = await readFile(this.filePath, 'utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return [];
      throw fileError(error, this.filePath, 'read');
    }
    return parseAccountsFile(text, this.filePath);
  }

  private async write(accounts: Account[]): Promise<void> {
    await mkdir(this.profileDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw fileError(error, this.profileDir, 'create');
    });
    const file: AccountsFile = { version: FILE_FORMAT_VERSION, accounts };
    await writeFileAtomic(this.filePath, `${JSON.stringify(file, null, 2)}\n`);
  }
}

function findAccount(accounts: Account[], id: string): Account {
  const account = accounts.find((candidate) => candidate.id === id);
  if (!account) throw new MailError('NOT_FOUND', `There is no account with id ${JSON.stringify(id)}.`);
  return account;
}

/** Reads accounts.json strictly: a damaged file is reported (and left alone), never half-used or overwritten. */
export function parseAccountsFile(text: string, filePath: string): Account[] {
  const damaged = (reason: string): MailError =>
    new MailError(
      'INVALID_INPUT',
      `The account settings file ${filePath} is damaged (${reason}). It was left unchanged; ` +
        'fix or move it away to continue.',
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw damaged(error instanceof Error ? error.message : 'not JSON');
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.accounts)) throw damaged('no "accounts" list');
  if (parsed.version !== FILE_FORMAT_VERSION) {
    throw damaged(`format version ${String(parsed.version)}; this version of Whereabouts reads ${FILE_FORMAT_VERSION}`);
  }
  const seen = new Set<string>();
  return parsed.accounts.map((entry, index) => {
    if (!isRecord(entry)) throw damaged(`account #${index + 1} is not an object`);
    const { id, createdAt, ...settings } = entry;
    if (typeof id !== 'string' || id === '' || seen.has(id))
      throw damaged(`account #${index + 1} has a missing or repeated id`);
    if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) {
      throw damaged(`account #${index + 1} has no valid creation date`);
    }
    seen.add(id);
    let valid: AccountSettings;
    try {
      valid = validateAccountSettings(settings);
    } catch (error) {
      throw damaged(`account #${index + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { id, createdAt, ...valid };
  });
}
