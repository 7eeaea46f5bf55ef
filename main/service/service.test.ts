/**
 * Scenarios through the service's typed API — the same calls the UI and the CLI make — against
 * the real Dovecot and Postfix: the mode switch with its preview (S13, S14), backup (S11), sent
 * mail (S7), and the ground truth of the residency figures.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { AccountSettings, FolderView } from '../../shared/model';
import {
  accountSettingsFor,
  createTestUser,
  putMessage,
  putMessages,
  readServerMessages,
} from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { createMailService, type MailService } from './create-service';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function message(subject: string, body: string, extra = ''): Buffer {
  const id = `<${subject.replace(/\W/g, '')}.${Math.random().toString(36).slice(2)}@test.example>`;
  return Buffer.from(
    `From: Ada <ada@example.org>\r\nTo: you@example.org\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\n` +
      `Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n${extra}\r\n${body}\r\n`,
  );
}

async function openService(): Promise<{ service: MailService; profileDir: string }> {
  const profileDir = await mkdtemp(join(tmpdir(), 'wa-service-'));
  const service = await createMailService({ profileDir, shell: 'cli' });
  cleanups.push(async () => {
    await service.close();
    await rm(profileDir, { recursive: true, force: true });
  });
  return { service, profileDir };
}

function settingsFor(
  user: TestUser,
  mode: 'imap' | 'pop3',
  leave: AccountSettings['leaveOnServer'] = { kind: 'forever' },
): AccountSettings {
  return accountSettingsFor(info, user, mode, { leaveOnServer: leave });
}

async function folderByPath(
  service: MailService,
  accountId: string,
  path: string,
  kind?: 'server' | 'local',
): Promise<FolderView> {
  const folders = await service.api.listFolders({ accountId });
  const found = folders.find((folder) => folder.path === path && (kind === undefined || folder.kind === kind));
  if (!found)
    throw new Error(`no folder ${path} in ${folders.map((folder) => `${folder.kind}:${folder.path}`).join(', ')}`);
  return found;
}

async function allMessages(service: MailService, folderId: string) {
  return (await service.api.listMessages({ folderId, offset: 0, limit: 1000 })).items;
}

describe('service scenarios', () => {
  it('S13 switch IMAP → POP3 → IMAP: the preview is what happens, nothing is lost or doubled', async () => {
    const user = await createTestUser(info);
    const inbox = [message('First', 'one'), message('Second', 'two'), message('Third', 'three')];
    await putMessages(info, user, inbox);
    await putMessage(info, user, message('Filed', 'in the archive'), 'Archive');
    const { service } = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });

    const serverInbox = await folderByPath(service, account.id, 'INBOX', 'server');
    expect((await allMessages(service, serverInbox.id)).map((item) => item.residency)).toEqual([
      'both',
      'both',
      'both',
    ]);
    const archive = await folderByPath(service, account.id, 'Archive', 'server');
    expect((await allMessages(service, archive.id)).map((item) => item.residency)).toEqual(['server']);

    // To POP3: INBOX is already here; the archived message stays on the server, out of POP3's reach.
    const toPop: Parameters<MailService['api']['planChange']>[0]['change'] = {
      kind: 'switch-mode',
      to: 'pop3',
      leaveOnServer: { kind: 'forever' },
    };
    const preview = await service.api.planChange({ accountId: account.id, change: toPop });
    expect(preview.totals.unreachable.count).toBe(1);
    expect(preview.totals.download.count).toBe(0);
    const done = await service.api.switchMode({ accountId: account.id, change: toPop });
    expect(done.after).toEqual(preview.after);
    expect((await service.api.getResidency({ accountId: account.id })).accounts[0].totals).toEqual(preview.after);

    // A POP3 pass recognises the messages it already has: no second copy.
    await service.api.syncAccount({ accountId: account.id });
    const popInbox = (await service.api.listFolders({ accountId: account.id })).find(
      (folder) => folder.kind === 'local' && folder.role === 'inbox',
    );
    expect(popInbox).toBeDefined();
    const popMessages = await allMessages(service, popInbox!.id);
    expect(popMessages.map((item) => item.subject).sort()).toEqual(['First', 'Second', 'Third']);
    expect(popMessages.every((item) => item.residency === 'both')).toBe(true);
    expect((await readServerMessages(info, user)).length).toBe(3);

    // Mail that arrives while in POP3 mode, then back to IMAP: the preview matches the result.
    await putMessage(info, user, message('Fourth', 'four'));
    await service.api.syncAccount({ accountId: account.id });
    const toImap: Parameters<MailService['api']['planChange']>[0]['change'] = {
      kind: 'switch-mode',
      to: 'imap',
      uploadLocalTo: 'INBOX',
    };
    const back = await service.api.planChange({ accountId: account.id, change: toImap });
    expect(back.totals.upload.count).toBe(0);
    const switched = await service.api.switchMode({ accountId: account.id, change: toImap });
    expect(switched.after).toEqual(back.after);
    const residency = (await service.api.getResidency({ accountId: account.id })).accounts[0];
    expect(residency.mode).toBe('imap');
    expect(residency.totals).toEqual(back.after);

    const inboxAgain = await folderByPath(service, account.id, 'INBOX', 'server');
    const subjects = (await allMessages(service, inboxAgain.id)).map((item) => item.subject).sort();
    expect(subjects).toEqual(['First', 'Fourth', 'Second', 'Third']);
    expect((await readServerMessages(info, user)).length).toBe(4);
    expect((await readServerMessages(info, user, 'Archive')).length).toBe(1);
  });

  it('S13 switch POP3 → IMAP uploads mail that only this computer has, once', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, [message('Downloaded', 'one'), message('Also downloaded', 'two')]);
    const { service } = await openService();
    // Policy off: POP3 takes the mail off the server; this computer then holds the only copy.
    const account = await service.api.addAccount({
      settings: settingsFor(user, 'pop3', { kind: 'off' }),
      password: user.password,
    });
    await service.api.syncAccount({ accountId: account.id });
    expect((await readServerMessages(info, user)).length).toBe(0);
    const before = (await service.api.getResidency({ accountId: account.id })).accounts[0].totals;
    expect(before.local.count).toBe(2);

    const change = { kind: 'switch-mode', to: 'imap', uploadLocalTo: 'INBOX' } as const;
    const plan = await service.api.planChange({ accountId: account.id, change });
    expect(plan.totals.upload.count).toBe(2);
    const done = await service.api.switchMode({ accountId: account.id, change });
    expect(done.totals.upload.count).toBe(2);
    const server = await readServerMessages(info, user);
    expect(server.length).toBe(2);
    const totals = (await service.api.getResidency({ accountId: account.id })).accounts[0].totals;
    expect(totals).toEqual(plan.after);
    expect(totals.both.count).toBe(2);
    // A second sync does not upload again.
    await service.api.syncAccount({ accountId: account.id });
    expect((await readServerMessages(info, user)).length).toBe(2);
  });

  it('S11 backup: a folder exported as mbox and as .eml files imports back byte for byte', async () => {
    const user = await createTestUser(info);
    const originals = [
      message('Plain', 'From the start of a line\r\n>From quoted already\r\nend'),
      message('Eight bit', 'caf\xe9'),
    ];
    await putMessages(info, user, originals);
    const { service, profileDir } = await openService();
    const account = await service.api.addAccount({
      settings: settingsFor(user, 'pop3', { kind: 'off' }),
      password: user.password,
    });
    await service.api.syncAccount({ accountId: account.id });
    const inbox = (await service.api.listFolders({ accountId: account.id })).find((folder) => folder.role === 'inbox')!;
    const exported = (
      await Promise.all(
        (await allMessages(service, inbox.id)).map(async (item) =>
          Buffer.from((await service.api.getRawMessage({ messageId: item.id })).base64, 'base64'),
        ),
      )
    )
      .map(sha256)
      .sort();

    const { exportFolder, importMessages } = await import('./export-import');
    const mboxPath = join(profileDir, 'backup.mbox');
    expect((await exportFolder(service, inbox.id, 'mbox', mboxPath)).exported).toBe(2);
    await expect(exportFolder(service, inbox.id, 'mbox', mboxPath)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const emlDir = join(profileDir, 'backup-eml');
    await exportFolder(service, inbox.id, 'eml', emlDir);
    expect((await readdir(emlDir)).length).toBe(2);

    for (const [name, source] of [
      ['From mbox', mboxPath],
      ['From eml', emlDir],
    ] as const) {
      const folder = await service.api.createFolder({ accountId: account.id, name, kind: 'local' });
      expect((await importMessages(service, source, folder.id)).imported).toBe(2);
      const imported = await Promise.all(
        (await allMessages(service, folder.id)).map(async (item) =>
          sha256(await service.internals.store.readRaw(item.id)),
        ),
      );
      expect(imported.sort()).toEqual(exported);
    }
    expect((await readFile(mboxPath, 'latin1')).includes('\n>From the start')).toBe(true);
  });

  it('S7 sent mail: IMAP appends to the server Sent folder, POP3 keeps it in a local Sent folder', async () => {
    const recipient = await createTestUser(info);
    for (const mode of ['imap', 'pop3'] as const) {
      const user = await createTestUser(info);
      const { service } = await openService();
      const account = await service.api.addAccount({ settings: settingsFor(user, mode), password: user.password });
      await service.api.syncAccount({ accountId: account.id });
      const item = await service.api.sendMessage({
        accountId: account.id,
        to: [{ name: 'Recipient', address: recipient.email }],
        cc: [],
        bcc: [],
        subject: `Hello from ${mode}`,
        text: 'Sent by the test.',
      });
      expect(item.state).toBe('queued');
      await service.internals.outbox.flush(account.id);
      await service.api.syncAccount({ accountId: account.id });
      const [entry] = await service.api.listOutbox({ accountId: account.id });
      expect(entry.state).toBe('sent');
      const sentFolders = (await service.api.listFolders({ accountId: account.id })).filter(
        (folder) => folder.role === 'sent',
      );
      const sent = sentFolders.find((folder) => folder.kind === (mode === 'imap' ? 'server' : 'local'));
      expect(sent, `a ${mode} Sent folder`).toBeDefined();
      const subjects = (await allMessages(service, sent!.id)).map((message) => message.subject);
      expect(subjects).toContain(`Hello from ${mode}`);
      const onServer = await readServerMessages(info, user, 'Sent');
      expect(onServer.length).toBe(mode === 'imap' ? 1 : 0);
    }
    // Both arrived.
    let delivered: Buffer[] = [];
    for (let attempt = 0; attempt < 50 && delivered.length < 2; attempt++) {
      delivered = await readServerMessages(info, recipient);
      if (delivered.length < 2) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(delivered.length).toBe(2);
  });

  it('S9 storage: IMAP shows the server quota with a warning near the limit, and the disk used here', async () => {
    const user = await createTestUser(info, { quotaMegabytes: 1 });
    await putMessage(info, user, message('Big', 'x'.repeat(960 * 1024)));
    const { service } = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const report = (await service.api.getResidency({ accountId: account.id })).accounts[0];
    expect(report.quota).not.toBeNull();
    expect(report.quota!.limit).toBe(1024 * 1024);
    expect(report.quota!.usage).toBeGreaterThan(960 * 1024);
    expect(report.quota!.warning).toBe(true);
    // The INBOX body is kept for offline reading: its bytes are here too.
    expect(report.diskBytes).toBe(report.totals.both.bytes + report.totals.local.bytes);
    expect(report.totals.both.count).toBe(1);
  });

  it('bad input gets a clear error and leaves the stored accounts intact', async () => {
    const { service } = await openService();
    const user = await createTestUser(info);
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await expect(
      service.api.addAccount({
        settings: { ...settingsFor(user, 'imap'), imap: { host: '', port: 99999, security: 'tls' } },
        password: 'x',
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(service.api.listMessages({ folderId: 'nope', offset: -1, limit: 10 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(service.api.getMessage({ messageId: 'missing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      service.api.updateAccount({ accountId: account.id, settings: { ...settingsFor(user, 'pop3') } }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await service.api.listAccounts()).map((view) => view.id)).toEqual([account.id]);
    const wrong = await service.api.testConnection({ settings: settingsFor(user, 'imap'), password: 'wrong' });
    expect(wrong.incoming).toMatchObject({ ok: false, error: { code: 'AUTH_FAILED' } });
    const right = await service.api.testConnection({ settings: settingsFor(user, 'imap'), password: user.password });
    expect(right).toEqual({ incoming: { ok: true }, smtp: { ok: true } });
  });
});
