/**
 * Drafts through the service's API against the real Dovecot and Postfix: IMAP keeps them in the
 * server's Drafts folder with \Draft (one draft however often it is saved, saved offline and
 * uploaded on reconnect), POP3 keeps them on this computer, sending a draft removes it; and the
 * address completion over stored mail.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { OutgoingMessage } from '../../shared/api';
import type { AccountSettings, FolderView } from '../../shared/model';
import { accountSettingsFor, createTestUser, putMessages, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { withOtherClient } from '../sync/imap/engine-test-support';
import { createMailService, type MailService } from './create-service';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openService(): Promise<MailService> {
  const profileDir = await mkdtemp(join(tmpdir(), 'wa-drafts-'));
  const service = await createMailService({ profileDir, shell: 'cli' });
  cleanups.push(async () => {
    await service.close();
    await rm(profileDir, { recursive: true, force: true });
  });
  return service;
}

const settingsFor = (user: TestUser, mode: 'imap' | 'pop3'): AccountSettings => accountSettingsFor(info, user, mode);

function draft(accountId: string, subject: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    accountId,
    to: [{ name: 'Ada Lovelace', address: 'ada@example.org' }],
    cc: [],
    bcc: [{ name: '', address: 'hidden@example.org' }],
    subject,
    text: `Text of ${subject}`,
    ...extra,
  };
}

/** Subjects and flags of the server's Drafts folder, as another client sees them. */
async function serverDrafts(user: TestUser): Promise<Array<{ subject: string; flags: string[] }>> {
  return withOtherClient(info, user, async (client) => {
    const lock = await client.getMailboxLock('Drafts', { readOnly: true });
    try {
      const found: Array<{ subject: string; flags: string[] }> = [];
      if (client.mailbox && client.mailbox.exists > 0) {
        for await (const message of client.fetch('1:*', { envelope: true, flags: true })) {
          found.push({ subject: message.envelope?.subject ?? '', flags: [...(message.flags ?? [])].sort() });
        }
      }
      return found;
    } finally {
      lock.release();
    }
  });
}

async function draftsFolder(service: MailService, accountId: string): Promise<FolderView> {
  const folder = (await service.api.listFolders({ accountId })).find((candidate) => candidate.role === 'drafts');
  if (!folder) throw new Error('no Drafts folder');
  return folder;
}

async function subjectsIn(service: MailService, folderId: string): Promise<string[]> {
  return (await service.api.listMessages({ folderId, offset: 0, limit: 100 })).items.map((item) => item.subject);
}

describe('drafts', () => {
  it('IMAP: a draft goes to the server Drafts with \\Draft; saving again leaves exactly one; it reopens whole', async () => {
    const user = await createTestUser(info);
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });

    const first = await service.api.saveDraft({ message: draft(account.id, 'Plans, first version') });
    expect(first.location).toBe('server');
    await service.api.syncAccount({ accountId: account.id });
    expect(await serverDrafts(user)).toEqual([{ subject: 'Plans, first version', flags: ['\\Draft', '\\Seen'] }]);

    const second = await service.api.saveDraft({
      draftId: first.draftId,
      message: draft(account.id, 'Plans, second version', { html: '<p>Text of <b>Plans</b></p>' }),
    });
    expect(second.draftId).not.toBe(first.draftId);
    // Saved twice more before the server hears of it: still one draft in the end.
    const third = await service.api.saveDraft({
      draftId: second.draftId,
      message: draft(account.id, 'Plans, third version', { html: '<p>Text of <b>Plans</b></p>' }),
    });
    await service.api.syncAccount({ accountId: account.id });
    expect(await serverDrafts(user)).toEqual([{ subject: 'Plans, third version', flags: ['\\Draft', '\\Seen'] }]);
    const folder = await draftsFolder(service, account.id);
    expect(folder.kind).toBe('server');
    expect(await subjectsIn(service, folder.id)).toEqual(['Plans, third version']);

    const reopened = await service.api.getDraft({ draftId: third.draftId });
    expect(reopened.message).toMatchObject({
      accountId: account.id,
      to: [{ name: 'Ada Lovelace', address: 'ada@example.org' }],
      bcc: [{ name: '', address: 'hidden@example.org' }],
      subject: 'Plans, third version',
    });
    expect(reopened.message.html).toContain('<b>Plans</b>');

    // The old id is gone: opening it says so, saving over it starts a new draft.
    await expect(service.api.getDraft({ draftId: first.draftId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('IMAP: the same draft saved from two windows at once stays one draft, the last save winning', async () => {
    const user = await createTestUser(info);
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const first = await service.api.saveDraft({ message: draft(account.id, 'Shared plans, v1') });

    // Both windows hold the first version and save over it together.
    const [fromOne, fromTwo] = await Promise.all([
      service.api.saveDraft({ draftId: first.draftId, message: draft(account.id, 'Shared plans, window one') }),
      service.api.saveDraft({ draftId: first.draftId, message: draft(account.id, 'Shared plans, window two') }),
    ]);
    expect(fromOne.draftId).not.toBe(fromTwo.draftId);
    // Window one saves again over the version it was given: it replaces the newest one.
    const again = await service.api.saveDraft({
      draftId: fromOne.draftId,
      message: draft(account.id, 'Shared plans, window one again'),
    });
    await service.api.syncAccount({ accountId: account.id });
    const folder = await draftsFolder(service, account.id);
    expect(await subjectsIn(service, folder.id)).toEqual(['Shared plans, window one again']);
    expect(await serverDrafts(user)).toEqual([
      { subject: 'Shared plans, window one again', flags: ['\\Draft', '\\Seen'] },
    ]);
    expect((await service.api.getDraft({ draftId: again.draftId })).message.subject).toBe(
      'Shared plans, window one again',
    );
  });

  it('IMAP offline: the draft is saved here, queued, and appended to the server on reconnect', async () => {
    const user = await createTestUser(info);
    const service = await openService();
    const settings = settingsFor(user, 'imap');
    const account = await service.api.addAccount({ settings, password: user.password });
    await service.api.syncAccount({ accountId: account.id });

    const offline = { ...settings, imap: { host: '127.0.0.1', port: 1, security: 'tls' as const } };
    await service.api.updateAccount({ accountId: account.id, settings: offline });
    const saved = await service.api.saveDraft({ message: draft(account.id, 'Written on the train') });
    expect(saved.location).toBe('server');
    await expect(service.api.syncAccount({ accountId: account.id })).rejects.toMatchObject({
      code: 'CONNECTION_REFUSED',
    });
    const folder = await draftsFolder(service, account.id);
    expect(await subjectsIn(service, folder.id)).toEqual(['Written on the train']);
    const queued = service.internals.store.listActions(account.id, ['pending']);
    expect(queued.map((action) => action.kind)).toEqual(['imap-append']);
    expect(await serverDrafts(user)).toEqual([]);

    await service.api.updateAccount({ accountId: account.id, settings });
    await service.api.syncAccount({ accountId: account.id });
    expect(await serverDrafts(user)).toEqual([{ subject: 'Written on the train', flags: ['\\Draft', '\\Seen'] }]);
    expect(service.internals.store.listActions(account.id)).toEqual([]);
    expect(await subjectsIn(service, folder.id)).toEqual(['Written on the train']);
  });

  it('IMAP: when the new version cannot be uploaded (over quota), the old one stays on the server', async () => {
    const user = await createTestUser(info, { quotaMegabytes: 1 });
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const first = await service.api.saveDraft({ message: draft(account.id, 'Small version') });
    await service.api.syncAccount({ accountId: account.id });
    expect((await serverDrafts(user)).map((entry) => entry.subject)).toEqual(['Small version']);

    const big = Buffer.alloc(1_500_000, 7).toString('base64');
    const second = await service.api.saveDraft({
      draftId: first.draftId,
      message: draft(account.id, 'Version with a big file', {
        attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', contentBase64: big }],
      }),
    });
    await service.api.syncAccount({ accountId: account.id });
    // The server refused the upload: its copy of the draft is the old one, not none.
    expect((await serverDrafts(user)).map((entry) => entry.subject)).toEqual(['Small version']);
    const failed = service.internals.store.listActions(account.id, ['failed']);
    expect(failed.map((action) => action.kind)).toEqual(['imap-append', 'imap-delete']);
    expect(failed[1].lastError).toMatch(/older version of a draft was kept/);
    // And the new version is here, whole.
    const reopened = await service.api.getDraft({ draftId: second.draftId });
    expect(reopened.message.subject).toBe('Version with a big file');
    expect(reopened.message.attachments?.[0].contentBase64.length).toBe(big.length);
  });

  it('sending a draft removes it from Drafts (IMAP: on the server too) and the mail arrives', async () => {
    const [user, recipient] = [await createTestUser(info), await createTestUser(info)];
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const saved = await service.api.saveDraft({
      message: draft(account.id, 'Finished at last', { to: [{ name: '', address: recipient.email }], bcc: [] }),
    });
    await service.api.syncAccount({ accountId: account.id });
    expect((await serverDrafts(user)).map((entry) => entry.subject)).toEqual(['Finished at last']);

    const reopened = await service.api.getDraft({ draftId: saved.draftId });
    await service.api.sendMessage({ ...reopened.message, draftId: saved.draftId });
    const folder = await draftsFolder(service, account.id);
    expect(await subjectsIn(service, folder.id)).toEqual([]);
    await service.internals.outbox.flush(account.id);
    await service.api.syncAccount({ accountId: account.id });
    expect(await serverDrafts(user)).toEqual([]);
    let delivered: Buffer[] = [];
    for (let attempt = 0; attempt < 50 && delivered.length < 1; attempt++) {
      delivered = await readServerMessages(info, recipient);
      if (delivered.length < 1) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(delivered.map((raw) => raw.toString('latin1'))).toEqual([expect.stringContaining('Finished at last')]);
    // The Bcc kept in the draft is not in what was sent.
    expect(delivered[0].toString('latin1')).not.toMatch(/^bcc:/im);
  });

  it('POP3: drafts stay in a Drafts folder on this computer; discarding deletes them', async () => {
    const user = await createTestUser(info);
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'pop3'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const first = await service.api.saveDraft({ message: draft(account.id, 'Local thoughts') });
    expect(first.location).toBe('local');
    const second = await service.api.saveDraft({
      draftId: first.draftId,
      message: draft(account.id, 'Local thoughts, revised'),
    });
    await service.api.syncAccount({ accountId: account.id });
    const folder = await draftsFolder(service, account.id);
    expect(folder.kind).toBe('local');
    expect(await subjectsIn(service, folder.id)).toEqual(['Local thoughts, revised']);
    expect((await service.api.getDraft({ draftId: second.draftId })).message.text.trim()).toBe(
      'Text of Local thoughts, revised',
    );
    expect(service.internals.store.listActions(account.id)).toEqual([]);
    expect(await readServerMessages(info, user, 'Drafts').catch(() => [])).toEqual([]);

    await service.api.deleteDraft({ draftId: second.draftId });
    expect(await subjectsIn(service, folder.id)).toEqual([]);
    await expect(service.api.deleteDraft({ draftId: second.draftId })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses to save over, open or delete a message that is not a draft', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, [
      Buffer.from('From: Ada <ada@example.org>\r\nTo: you@example.org\r\nSubject: Real mail\r\n\r\nBody\r\n'),
    ]);
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const inbox = (await service.api.listFolders({ accountId: account.id })).find((folder) => folder.role === 'inbox')!;
    const [mail] = (await service.api.listMessages({ folderId: inbox.id, offset: 0, limit: 10 })).items;
    await expect(
      service.api.saveDraft({ draftId: mail.id, message: draft(account.id, 'Overwrite?') }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(service.api.deleteDraft({ draftId: mail.id })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(service.api.getDraft({ draftId: mail.id })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await subjectsIn(service, inbox.id)).toEqual(['Real mail']);
    await expect(service.api.saveDraft({ message: { ...draft(account.id, 'Two\r\nlines') } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});

describe('address completion', () => {
  it('suggests senders and recipients of stored mail, most used first, never the account itself', async () => {
    const user = await createTestUser(info);
    const mail = (from: string, to: string, subject: string) =>
      Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@test>\r\n\r\nx\r\n`);
    await putMessages(info, user, [
      mail('Ada Lovelace <ada@example.org>', user.email, 'one'),
      mail('Ada Lovelace <ada@example.org>', user.email, 'two'),
      mail('Adam Smith <adam@example.org>', `${user.email}, Bea <bea@example.org>`, 'three'),
      mail('Charles Babbage <charles@example.org>', 'ada@example.org', 'four'),
    ]);
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });

    const ad = await service.api.suggestAddresses({ query: 'ad' });
    expect(ad.map((entry) => entry.address)).toEqual(['ada@example.org', 'adam@example.org']);
    expect(ad[0]).toMatchObject({ name: 'Ada Lovelace', uses: 3 });
    // A word of the name matches too; LIKE wildcards are literal.
    expect((await service.api.suggestAddresses({ query: 'babb' })).map((entry) => entry.address)).toEqual([
      'charles@example.org',
    ]);
    expect(await service.api.suggestAddresses({ query: '%' })).toEqual([]);
    expect(await service.api.suggestAddresses({ query: user.email.slice(0, 6) })).toEqual([]);
    expect(await service.api.suggestAddresses({ query: '' })).toEqual([]);

    // Mail stored later (here: written and saved) is known at the next call.
    await service.api.saveDraft({
      message: draft(account.id, 'New', { to: [{ name: 'Zoe Newcomer', address: 'zoe@example.org' }], bcc: [] }),
    });
    expect(await service.api.suggestAddresses({ query: 'newc' })).toEqual([
      { name: 'Zoe Newcomer', address: 'zoe@example.org', uses: 1 },
    ]);
    await expect(service.api.suggestAddresses({ query: 'a', limit: 1000 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
