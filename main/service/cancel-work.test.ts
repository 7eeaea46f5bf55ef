/**
 * Cancel for long work (cancelWork), through the service's API against the real Dovecot: an initial
 * IMAP sync stopped in its header and body phases, a POP3 download stopped mid-way, a mode switch
 * stopped while it downloads, and a download the user asked for. Each stops at a safe point, keeps
 * what is durably here, leaves the account usable, and a later run completes without duplicates.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { AccountSettings, MessageSummary, SyncProgress } from '../../shared/model';
import { accountSettingsFor, createTestUser, putMessages, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { startThrottledProxy } from '../../e2e/support/throttled-proxy';
import { createMailService, type MailService, type ServiceOptions } from './create-service';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function messages(prefix: string, count: number, bodyBytes = 200): Buffer[] {
  return Array.from({ length: count }, (_, index) => {
    const id = `<${prefix}.${index}.${Math.random().toString(36).slice(2)}@test.example>`;
    return Buffer.from(
      `From: Ada <ada@example.org>\r\nTo: you@example.org\r\nSubject: ${prefix} ${index}\r\nMessage-ID: ${id}\r\n` +
        `Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n${'x'.repeat(bodyBytes)} ${index}\r\n`,
    );
  });
}

async function openService(options: Partial<ServiceOptions> = {}): Promise<MailService> {
  const profileDir = await mkdtemp(join(tmpdir(), 'wa-cancel-'));
  const service = await createMailService({ profileDir, shell: 'cli', ...options });
  cleanups.push(async () => {
    await service.close();
    await rm(profileDir, { recursive: true, force: true });
  });
  return service;
}

function settingsFor(user: TestUser, mode: 'imap' | 'pop3', extra: Partial<AccountSettings> = {}): AccountSettings {
  return accountSettingsFor(info, user, mode, extra);
}

/** Every syncProgress event; `cancelWhen` calls cancelWork (once) from inside the event, like a click. */
function watchProgress(service: MailService) {
  const events: SyncProgress[] = [];
  let trigger: ((event: SyncProgress) => boolean) | null = null;
  let cancelled: Promise<{ stopped: boolean }> | null = null;
  service.onEvent((name, payload) => {
    if (name !== 'syncProgress') return;
    const event = payload as SyncProgress;
    events.push(event);
    if (trigger?.(event)) {
      trigger = null;
      cancelled = service.api.cancelWork({ accountId: event.accountId });
    }
  });
  return {
    events,
    cancelWhen(condition: (event: SyncProgress) => boolean) {
      trigger = condition;
      cancelled = null;
    },
    async cancelOutcome() {
      await expect.poll(() => cancelled, { timeout: 20_000 }).not.toBeNull();
      return (await cancelled) as unknown as { stopped: boolean };
    },
    last: () => events[events.length - 1],
  };
}

async function listAll(service: MailService, accountId: string, kind: 'server' | 'local', path: string) {
  const folders = await service.api.listFolders({ accountId });
  const folder = folders.find((candidate) => candidate.kind === kind && candidate.path === path);
  if (!folder) return [] as MessageSummary[];
  return (await service.api.listMessages({ folderId: folder.id, offset: 0, limit: 1000 })).items;
}

function expectNoDuplicates(items: readonly MessageSummary[]): void {
  expect(new Set(items.map((item) => item.messageId)).size).toBe(items.length);
}

describe('cancelWork', () => {
  it('stops an initial IMAP sync in its header phase and again in its body phase; a later sync completes', async () => {
    const user = await createTestUser(info);
    // Big enough that the bodies come down in several batched FETCHes (body-download.ts: 4 MB each).
    await putMessages(info, user, messages('Header', 150, 60_000));
    const service = await openService({ engineOptions: { imap: { headerBatchSize: 50 } } });
    const progress = watchProgress(service);
    progress.cancelWhen((event) => event.phase === 'headers' && event.done >= 50);
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });

    expect(await progress.cancelOutcome()).toEqual({ stopped: true });
    expect(progress.events.some((event) => event.phase === 'headers' && event.cancellable === 'sync')).toBe(true);
    const final = progress.last();
    expect(final).toMatchObject({ phase: 'done', cancelled: { work: 'sync', phase: 'headers' }, folder: 'INBOX' });
    expect(final.total).toBe(150);
    const listed = await listAll(service, account.id, 'server', 'INBOX');
    // Stopped between two header batches: what was listed is exactly what the last event counted.
    expect(listed.length).toBe(final.done);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.length).toBeLessThan(150);
    expectNoDuplicates(listed);
    // The account is not in trouble: cancelling is no failure.
    const view = (await service.api.listAccounts()).find((candidate) => candidate.id === account.id);
    expect(view?.lastError).toBeNull();
    expect(view?.connectivity).toBe('online');

    // The next sync lists the rest (no duplicates) and starts on the bodies; stop that too.
    progress.cancelWhen((event) => event.phase === 'bodies' && event.done > 0);
    await service.api.syncAccount({ accountId: account.id });
    expect(await progress.cancelOutcome()).toEqual({ stopped: true });
    const bodiesStopped = progress.last();
    expect(bodiesStopped).toMatchObject({ phase: 'done', cancelled: { work: 'sync', phase: 'bodies' } });
    const afterSecond = await listAll(service, account.id, 'server', 'INBOX');
    expect(afterSecond.length).toBe(150);
    expectNoDuplicates(afterSecond);
    const here = afterSecond.filter((item) => item.residency === 'both').length;
    expect(here).toBe(bodiesStopped.done);
    expect(here).toBeLessThan(150);

    // Nothing running: nothing to stop.
    expect(await service.api.cancelWork({ accountId: account.id })).toEqual({ stopped: false });

    await service.api.syncAccount({ accountId: account.id });
    const complete = await listAll(service, account.id, 'server', 'INBOX');
    expect(complete.length).toBe(150);
    expectNoDuplicates(complete);
    expect(complete.every((item) => item.residency === 'both')).toBe(true);
    expect(progress.last()).toMatchObject({ phase: 'done' });
    expect(progress.last().cancelled).toBeUndefined();
  });

  it('does not wait for a body batch on a slow link: the connection is closed, the account stays online', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, messages('Slow', 40, 60_000));
    const proxy = await startThrottledProxy({ host: info.host, port: info.ports.imaps }, 30 * 1024);
    cleanups.push(() => proxy.close());
    const service = await openService();
    const progress = watchProgress(service);
    let cancelledAt = 0;
    let stoppedAfterMs = Number.POSITIVE_INFINITY;
    // Headers all listed: the 2.4 MB body batch is on its way at 30 KB/s (over a minute) when Cancel comes.
    progress.cancelWhen((event) => {
      if (event.phase !== 'headers' || event.done < 40) return false;
      setTimeout(() => {
        cancelledAt = Date.now();
        void service.api.cancelWork({ accountId: event.accountId }).then(({ stopped }) => {
          if (stopped) stoppedAfterMs = Date.now() - cancelledAt;
        });
      }, 1_000);
      return false;
    });
    const settings = settingsFor(user, 'imap');
    const account = await service.api.addAccount({
      settings: { ...settings, imap: { host: '127.0.0.1', port: proxy.port, security: 'tls' } },
      password: user.password,
    });
    await expect.poll(() => stoppedAfterMs, { timeout: 30_000 }).toBeLessThan(10_000);
    console.log(`Cancel during a body batch on a 30 KB/s link: stopped after ${stoppedAfterMs} ms`);
    expect(progress.last()).toMatchObject({ phase: 'done', cancelled: { work: 'sync' } });
    const view = (await service.api.listAccounts()).find((candidate) => candidate.id === account.id);
    expect(view?.lastError).toBeNull();
    expect(view?.connectivity).toBe('online');
    const listed = await listAll(service, account.id, 'server', 'INBOX');
    expect(listed.length).toBe(40);
    expect(listed.filter((item) => item.residency === 'both').length).toBeLessThan(40);

    proxy.setRate(Number.POSITIVE_INFINITY);
    await service.api.syncAccount({ accountId: account.id });
    const complete = await listAll(service, account.id, 'server', 'INBOX');
    expect(complete.length).toBe(40);
    expectNoDuplicates(complete);
    expect(complete.every((item) => item.residency === 'both')).toBe(true);
  });

  it('stops a POP3 download mid-way: nothing is deleted on the server, the next check fetches only the rest', async () => {
    const user = await createTestUser(info);
    // More than one store batch (download-batches.ts: 256 messages each).
    await putMessages(info, user, messages('Pop', 600, 2_000));
    const service = await openService();
    const progress = watchProgress(service);
    progress.cancelWhen((event) => event.phase === 'download' && event.done > 0);
    // Policy off: a finished pass deletes what it downloaded; a stopped one must delete nothing.
    const account = await service.api.addAccount({
      settings: settingsFor(user, 'pop3', { leaveOnServer: { kind: 'off' } }),
      password: user.password,
    });
    expect(await progress.cancelOutcome()).toEqual({ stopped: true });
    const final = progress.last();
    expect(final).toMatchObject({ phase: 'done', cancelled: { work: 'sync', phase: 'download' }, total: 600 });
    const stored = await listAll(service, account.id, 'local', 'INBOX');
    expect(stored.length).toBeGreaterThanOrEqual(final.done);
    expect(stored.length).toBeLessThan(600);
    expectNoDuplicates(stored);
    expect((await readServerMessages(info, user)).length).toBe(600);
    const view = (await service.api.listAccounts()).find((candidate) => candidate.id === account.id);
    expect(view?.lastError).toBeNull();
    expect(view?.connectivity).toBe('online');

    await service.api.syncAccount({ accountId: account.id });
    const all = await listAll(service, account.id, 'local', 'INBOX');
    expect(all.length).toBe(600);
    expectNoDuplicates(all);
    expect((await readServerMessages(info, user)).length).toBe(0);
  });

  it('stops a switch to POP3 while it downloads: the account stays IMAP, the copies stay, a later switch completes', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, messages('Inbox', 3));
    await putMessages(info, user, messages('Archived', 100), 'Archive');
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const change = { kind: 'switch-mode', to: 'pop3', leaveOnServer: { kind: 'forever' }, allFolders: true } as const;
    const plan = await service.api.planChange({ accountId: account.id, change });
    expect(plan.totals.download.count).toBe(100);

    const progress = watchProgress(service);
    progress.cancelWhen((event) => event.phase === 'switch' && event.done >= 20 && event.cancellable === 'switch');
    const switching = service.api.switchMode({ accountId: account.id, change });
    await expect(switching).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await progress.cancelOutcome()).toEqual({ stopped: true });
    const final = progress.last();
    expect(final).toMatchObject({ phase: 'done', cancelled: { work: 'switch', phase: 'switch' }, total: 100 });
    await expect(switching).rejects.toThrow(/still uses IMAP/);

    const view = (await service.api.listAccounts()).find((candidate) => candidate.id === account.id);
    expect(view?.mode).toBe('imap');
    const archive = await listAll(service, account.id, 'server', 'Archive');
    expect(archive.length).toBe(100);
    const downloaded = archive.filter((item) => item.residency === 'both').length;
    expect(downloaded).toBe(final.done);
    expect(downloaded).toBeGreaterThanOrEqual(20);
    expect(downloaded).toBeLessThan(100);
    // The residency view says the same.
    const report = (await service.api.getResidency({ accountId: account.id })).accounts[0];
    expect(report.mode).toBe('imap');
    const archiveTotals = report.folders.find((folder) => folder.path === 'Archive')?.totals;
    expect(archiveTotals?.both.count).toBe(downloaded);
    expect(archiveTotals?.server.count).toBe(100 - downloaded);

    // Switching again downloads only the rest.
    const again = await service.api.planChange({ accountId: account.id, change });
    expect(again.totals.download.count).toBe(100 - downloaded);
    await service.api.switchMode({ accountId: account.id, change });
    const after = (await service.api.listAccounts()).find((candidate) => candidate.id === account.id);
    expect(after?.mode).toBe('pop3');
    const archiveAfter = await listAll(service, account.id, 'server', 'Archive');
    expect(archiveAfter.length).toBe(100);
    expect(archiveAfter.every((item) => item.residency === 'both')).toBe(true);
  });

  it('stops a switch to IMAP before it commits (still POP3), and after it (IMAP; the rest stays here)', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, messages('Local', 5));
    const service = await openService();
    const account = await service.api.addAccount({
      settings: settingsFor(user, 'pop3', { leaveOnServer: { kind: 'off' } }),
      password: user.password,
    });
    await service.api.syncAccount({ accountId: account.id });
    expect((await readServerMessages(info, user)).length).toBe(0);
    const change = { kind: 'switch-mode', to: 'imap', uploadLocalTo: 'INBOX' } as const;
    const progress = watchProgress(service);

    // Cancelled while the server is listed: nothing changed.
    progress.cancelWhen((event) => event.phase === 'switch' && event.cancellable === 'switch');
    await expect(service.api.switchMode({ accountId: account.id, change })).rejects.toThrow(/still uses POP3/);
    expect(await progress.cancelOutcome()).toEqual({ stopped: true });
    expect(progress.last()).toMatchObject({ phase: 'done', cancelled: { work: 'switch', phase: 'switch' }, done: 0 });
    expect((await service.api.listAccounts())[0].mode).toBe('pop3');
    expect((await service.api.getResidency({ accountId: account.id })).accounts[0].totals.local.count).toBe(5);

    // Cancelled after the first upload was queued: IMAP now, one message goes up, four stay here.
    progress.cancelWhen((event) => event.phase === 'switch' && event.done === 2 && event.cancellable === 'switch');
    await expect(service.api.switchMode({ accountId: account.id, change })).rejects.toThrow(
      /now uses IMAP.*1 of 5 messages only on this computer were queued for upload/,
    );
    expect(await progress.cancelOutcome()).toEqual({ stopped: true });
    expect(progress.last()).toMatchObject({
      phase: 'done',
      cancelled: { work: 'switch', phase: 'upload' },
      done: 1,
      total: 5,
    });
    expect((await service.api.listAccounts())[0].mode).toBe('imap');
    await service.api.syncAccount({ accountId: account.id });
    expect((await readServerMessages(info, user)).length).toBe(1);
    const totals = (await service.api.getResidency({ accountId: account.id })).accounts[0].totals;
    expect(totals.both.count).toBe(1);
    expect(totals.local.count).toBe(4);
  });

  it('stops a POP3 download of header-only messages between sessions; what came down stays', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, messages('Top', 300, 1_000));
    const service = await openService();
    const account = await service.api.addAccount({
      settings: settingsFor(user, 'pop3', { pop3Options: { headersOnly: true } }),
      password: user.password,
    });
    await service.api.syncAccount({ accountId: account.id });
    const listed = await listAll(service, account.id, 'local', 'INBOX');
    expect(listed.length).toBe(300);
    expect(listed.every((item) => item.residency === 'server')).toBe(true);

    const progress = watchProgress(service);
    progress.cancelWhen((event) => event.cancellable === 'download' && event.done > 0);
    await expect(service.api.downloadMessages({ messageIds: listed.map((item) => item.id) })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(await progress.cancelOutcome()).toEqual({ stopped: true });
    const final = progress.last();
    expect(final).toMatchObject({ phase: 'done', cancelled: { work: 'download' }, total: 300 });
    const now = await listAll(service, account.id, 'local', 'INBOX');
    const here = now.filter((item) => item.residency === 'both').length;
    expect(here).toBe(final.done);
    expect(here).toBeLessThan(300);
    expect((await readServerMessages(info, user)).length).toBe(300);
  });

  it('refuses to cancel for an unknown account or an unknown kind of work', async () => {
    const service = await openService();
    await expect(service.api.cancelWork({ accountId: 'no-such-account' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const user = await createTestUser(info);
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await expect(
      service.api.cancelWork({ accountId: account.id, work: 'everything' as unknown as 'sync' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('stops a download the user asked for; what came down stays', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, messages('Big', 60, 2_000), 'Archive');
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const archive = await listAll(service, account.id, 'server', 'Archive');
    expect(archive.every((item) => item.residency === 'server')).toBe(true);

    const progress = watchProgress(service);
    progress.cancelWhen((event) => event.cancellable === 'download' && event.done >= 20);
    const downloading = service.api.downloadMessages({ messageIds: archive.map((item) => item.id) });
    await expect(downloading).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await progress.cancelOutcome()).toEqual({ stopped: true });
    const final = progress.last();
    expect(final).toMatchObject({ phase: 'done', cancelled: { work: 'download', phase: 'download' }, total: 60 });
    const now = await listAll(service, account.id, 'server', 'Archive');
    const here = now.filter((item) => item.residency === 'both').length;
    expect(here).toBe(final.done);
    expect(here).toBeLessThan(60);

    await service.api.downloadMessages({ messageIds: archive.map((item) => item.id) });
    const all = await listAll(service, account.id, 'server', 'Archive');
    expect(all.every((item) => item.residency === 'both')).toBe(true);
    expect(progress.last()).toMatchObject({ phase: 'download', done: 60 - here, total: 60 - here });
  });

  it('stops a download after the messages in flight (one small batch), not at the end of a progress chunk', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, messages('Chunk', 60, 2_000), 'Archive');
    const service = await openService();
    const account = await service.api.addAccount({ settings: settingsFor(user, 'imap'), password: user.password });
    await service.api.syncAccount({ accountId: account.id });
    const archive = await listAll(service, account.id, 'server', 'Archive');

    // Cancel as soon as the first body is here: long before the first progress chunk (50) ends.
    let cancelled: Promise<{ stopped: boolean }> | null = null;
    service.onEvent((name) => {
      if (cancelled === null && (name === 'messagesChanged' || name === 'residencyChanged')) {
        cancelled = service.api.cancelWork({ accountId: account.id });
      }
    });
    await expect(service.api.downloadMessages({ messageIds: archive.map((item) => item.id) })).rejects.toMatchObject({
      code: 'CANCELLED',
    });
    expect(await (cancelled as Promise<{ stopped: boolean }> | null)).toEqual({ stopped: true });
    const here = (await listAll(service, account.id, 'server', 'Archive')).filter(
      (item) => item.residency === 'both',
    ).length;
    expect(here).toBeGreaterThanOrEqual(1);
    expect(here).toBeLessThan(50);
  });
});
