/**
 * The password is found nowhere on disk. After everything a user does that touches it — an IMAP
 * sync, a POP3 download, sending mail, a backup export, and failed logins with a mistyped password
 * — every file under the profile and the exported backup is searched for each password in every
 * encoding a careless program would write it in (secret-forms.ts): UTF-8, base64 at each
 * alignment, hex, UTF-16LE and the SASL PLAIN string. The only place a password may be is the
 * encrypted secrets file (AES-256-GCM, main/accounts/secrets.ts), which must be private to the user.
 */
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import type { AccountSettings } from '../../shared/model';
import { SECRETS_FILE_NAME, SECRETS_KEY_FILE_NAME } from '../accounts/secrets';
import { createMailService } from '../service/create-service';
import { exportFolder } from '../service/export-import';
import { findSecret, secretForms } from './secret-forms';

const info = inject('mailServer');
const directories: string[] = [];

afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function temporaryDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  directories.push(directory);
  return directory;
}

function settingsFor(user: TestUser, mode: 'imap' | 'pop3'): AccountSettings {
  return {
    name: `${mode} ${user.username}`,
    email: user.email,
    mode,
    username: user.username,
    imap: { host: info.host, port: info.ports.imaps, security: 'tls' },
    // STARTTLS on POP3 and SMTP: the password goes through the upgrade path too.
    pop3: { host: info.host, port: info.ports.pop3, security: 'starttls' },
    smtp: { host: info.host, port: info.ports.submission, security: 'starttls' },
    leaveOnServer: { kind: 'off' },
    offlineFolders: ['INBOX'],
    checkIntervalMinutes: 10,
  };
}

function mail(subject: string): Buffer {
  return Buffer.from(
    `From: Ada <ada@example.org>\r\nTo: you@example.org\r\nSubject: ${subject}\r\n` +
      `Message-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@example.org>\r\n` +
      `Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nHello, ${subject}.\r\n`,
  );
}

/** Every regular file below `root`, with its contents. */
async function filesBelow(root: string): Promise<Array<{ path: string; bytes: Buffer }>> {
  const found: Array<{ path: string; bytes: Buffer }> = [];
  for (const name of await readdir(root)) {
    const path = join(root, name);
    const status = await lstat(path);
    if (status.isDirectory()) found.push(...(await filesBelow(path)));
    else if (status.isFile()) found.push({ path, bytes: await readFile(path) });
  }
  return found;
}

/** "file: encodings" for each file holding a form of one of the secrets. */
async function leaks(roots: readonly string[], secrets: readonly TestUser[] | string[]): Promise<string[]> {
  const passwords = secrets.map((secret) => (typeof secret === 'string' ? secret : secret.password));
  const found: string[] = [];
  for (const root of roots) {
    for (const file of await filesBelow(root)) {
      for (const password of passwords) {
        const encodings = findSecret(file.bytes, password);
        if (encodings.length > 0) found.push(`${file.path}: ${encodings.join(', ')}`);
      }
    }
  }
  return found;
}

describe('secrets at rest', () => {
  it('the detector finds a password in each encoding, wherever it sits in the bytes', () => {
    const password = 'c0rrect-horse-battery';
    for (const form of secretForms(password, 'someone')) {
      for (const padding of ['', 'x', 'xy', 'xyz']) {
        const haystack = Buffer.concat([
          Buffer.from(`{"padding":"${padding}","value":"`),
          form.bytes,
          Buffer.from('"}'),
        ]);
        expect(findSecret(haystack, password, 'someone'), form.encoding).not.toEqual([]);
      }
    }
    // base64 of a longer text holding the password, at each of the three alignments.
    for (const prefix of ['', 'a', 'ab']) {
      const encoded = Buffer.from(Buffer.from(`${prefix}password=${password};`).toString('base64'));
      expect(findSecret(encoded, password), `base64 after "${prefix}"`).not.toEqual([]);
    }
    expect(findSecret(Buffer.from('nothing to see here'), password)).toEqual([]);
  });

  it('no password anywhere in the profile or the export after sync, download, send, export and failed logins', async () => {
    const imapUser = await createTestUser(info);
    const popUser = await createTestUser(info);
    const mistyped = `${imapUser.password}-typo`;
    const mistypedPop = `x${popUser.password}`;
    await putMessages(info, imapUser, [mail('imap one'), mail('imap two')]);
    await putMessages(info, popUser, [mail('pop one'), mail('pop two')]);
    // A folder the service creates itself, so the test sees the permissions it chooses.
    const profileDir = join(await temporaryDirectory('wb-secrets-'), 'profile');
    const exportDir = await temporaryDirectory('wb-secrets-export-');

    const service = await createMailService({ profileDir, shell: 'cli' });
    try {
      const imap = await service.api.addAccount({
        settings: settingsFor(imapUser, 'imap'),
        password: imapUser.password,
      });
      const pop = await service.api.addAccount({ settings: settingsFor(popUser, 'pop3'), password: popUser.password });
      await service.api.syncAccount({ accountId: imap.id });
      await service.api.syncAccount({ accountId: pop.id });

      await service.api.sendMessage({
        accountId: imap.id,
        to: [{ name: 'Pop User', address: popUser.email }],
        cc: [],
        bcc: [],
        subject: 'sent over SMTP',
        text: 'Sent by the secrets test.',
      });
      await service.internals.outbox.flush(imap.id);
      const [sent] = await service.api.listOutbox({ accountId: imap.id });
      expect(sent.state).toBe('sent');
      await service.api.syncAccount({ accountId: imap.id });

      const folders = await service.api.listFolders({ accountId: imap.id });
      const inbox = folders.find((folder) => folder.role === 'inbox' && folder.kind === 'server');
      expect(inbox).toBeDefined();
      const page = await service.api.listMessages({ folderId: inbox!.id, offset: 0, limit: 10 });
      expect(page.items.map((item) => item.residency)).toEqual(['both', 'both']);
      expect((await exportFolder(service, inbox!.id, 'mbox', join(exportDir, 'inbox.mbox'))).exported).toBe(2);
      const popInbox = (await service.api.listFolders({ accountId: pop.id })).find((folder) => folder.role === 'inbox');
      expect((await exportFolder(service, popInbox!.id, 'eml', join(exportDir, 'pop-eml'))).exported).toBe(2);

      // Failed logins: a connection test, and a saved mistyped password used by a sync.
      const test = await service.api.testConnection({ settings: settingsFor(popUser, 'pop3'), password: mistypedPop });
      expect(test.incoming.ok ? null : test.incoming.error.code).toBe('AUTH_FAILED');
      await service.api.updateAccount({
        accountId: imap.id,
        settings: settingsFor(imapUser, 'imap'),
        password: mistyped,
      });
      await expect(service.api.syncAccount({ accountId: imap.id })).rejects.toMatchObject({ code: 'AUTH_FAILED' });
      const views = await service.api.listAccounts();
      expect(views.find((view) => view.id === imap.id)?.lastError?.code).toBe('AUTH_FAILED');

      // While the service runs (the index's write-ahead log holds the latest pages)…
      const secrets = [imapUser.password, popUser.password, mistyped, mistypedPop];
      expect(await leaks([profileDir, exportDir], secrets)).toEqual([]);
    } finally {
      await service.close();
    }
    // …and after it closed.
    const all = await filesBelow(profileDir);
    expect(all.length).toBeGreaterThan(5);
    expect(await leaks([profileDir, exportDir], [imapUser.password, popUser.password, mistyped, mistypedPop])).toEqual(
      [],
    );
    // The encrypted secrets and their key are readable by the user only; so is the profile.
    expect((await lstat(join(profileDir, SECRETS_FILE_NAME))).mode & 0o777).toBe(0o600);
    expect((await lstat(join(profileDir, SECRETS_KEY_FILE_NAME))).mode & 0o777).toBe(0o600);
    expect((await lstat(profileDir)).mode & 0o077).toBe(0);
  });
});
