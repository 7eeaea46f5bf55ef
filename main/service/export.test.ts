/**
 * Export from the UI (exportFolder in shared/api.ts), through the service's API against the real
 * Dovecot: an IMAP folder whose bodies are partly only on the server is exported byte-exact and in
 * order into the Downloads folder, a second export gets a new name, Cancel removes the unfinished
 * file, and an unknown folder is refused in words.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { AccountSettings, SyncProgress } from '../../shared/model';
import { accountSettingsFor, createTestUser, putMessages, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { createMailService, type MailService } from './create-service';
import { splitMbox } from './export-import';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Messages dated one minute apart in array order; every third has a body line starting "From ". */
function messages(prefix: string, count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) => {
    const date = new Date(Date.UTC(2026, 0, 1, 10, index)).toUTCString();
    const body =
      index % 3 === 0 ? `From the desk of Ada, note ${index}\r\n>From quoted\r\n` : `Plain body ${index}\r\n`;
    return Buffer.from(
      `From: Ada <ada@example.org>\r\nTo: you@example.org\r\nSubject: ${prefix} ${index}\r\n` +
        `Message-ID: <${prefix}.${index}.${Math.random().toString(36).slice(2)}@test.example>\r\n` +
        `Date: ${date}\r\n\r\n${body}`,
    );
  });
}

async function openService(): Promise<{ service: MailService; downloads: string }> {
  const profileDir = await mkdtemp(join(tmpdir(), 'wa-export-'));
  const downloads = join(profileDir, 'Downloads');
  const service = await createMailService({ profileDir, shell: 'cli', downloadsDir: downloads });
  cleanups.push(async () => {
    await service.close();
    await rm(profileDir, { recursive: true, force: true });
  });
  return { service, downloads };
}

/** Projects is not in offlineFolders (INBOX only): its bodies stay on the server until asked for. */
function settingsFor(user: TestUser): AccountSettings {
  return accountSettingsFor(info, user, 'imap');
}

function watchProgress(service: MailService): SyncProgress[] {
  const events: SyncProgress[] = [];
  service.onEvent((name, payload) => {
    if (name === 'syncProgress') events.push(payload as SyncProgress);
  });
  return events;
}

/** An account whose "Projects" folder holds `count` messages, the first three downloaded, the rest only on the server. */
async function projectsFolder(count: number) {
  const user = await createTestUser(info);
  await putMessages(info, user, messages('Project', count), 'Projects');
  const { service, downloads } = await openService();
  const account = await service.api.addAccount({ settings: settingsFor(user), password: user.password });
  await service.api.syncAccount({ accountId: account.id });
  const folder = (await service.api.listFolders({ accountId: account.id })).find(
    (candidate) => candidate.path === 'Projects',
  )!;
  const page = await service.api.listMessages({ folderId: folder.id, offset: 0, limit: 100, direction: 'asc' });
  expect(page.items.length).toBe(count);
  await service.api.downloadMessages({ messageIds: page.items.slice(0, 3).map((item) => item.id) });
  const residencies = (await service.api.listMessages({ folderId: folder.id, offset: 0, limit: 100 })).items.map(
    (item) => item.residency,
  );
  expect(residencies.filter((residency) => residency === 'server').length).toBe(count - 3);
  return { user, service, downloads, account, folder };
}

describe('exportFolder (the UI export)', () => {
  it('exports every message byte-exact and in order into Downloads, downloading server-only bodies first', async () => {
    const { user, service, downloads, folder } = await projectsFolder(8);
    const events = watchProgress(service);

    const result = await service.api.exportFolder({ folderId: folder.id, format: 'mbox' });
    expect(result).toEqual({ path: join(downloads, 'Projects.mbox'), exported: 8, skipped: 0 });
    const exported = splitMbox(await readFile(result.path));
    const onServer = await readServerMessages(info, user, 'Projects');
    expect(exported.length).toBe(8);
    expect(exported.map((raw) => raw.toString('latin1'))).toEqual(onServer.map((raw) => raw.toString('latin1')));

    // Progress: the download of the 5 server-only bodies, then the export, cancellable, then done.
    expect(events.some((event) => event.phase === 'download' && event.cancellable === 'export')).toBe(true);
    expect(events.find((event) => event.phase === 'download' && event.done === 5)?.total).toBe(5);
    expect(events.some((event) => event.phase === 'export' && event.cancellable === 'export')).toBe(true);
    expect(events.at(-1)).toMatchObject({ phase: 'done', done: 8, total: 8, folder: 'Projects' });
    expect(events.at(-1)?.cancelled).toBeUndefined();

    // A second export never overwrites: it gets the next free name.
    const second = await service.api.exportFolder({ folderId: folder.id, format: 'mbox' });
    expect(second.path).toBe(join(downloads, 'Projects (2).mbox'));
    expect(splitMbox(await readFile(second.path)).length).toBe(8);
    const eml = await service.api.exportFolder({ folderId: folder.id, format: 'eml' });
    expect(eml.path).toBe(join(downloads, 'Projects'));
    const files = (await readdir(eml.path)).sort();
    expect(files.length).toBe(8);
    expect(await readFile(join(eml.path, files[7]))).toEqual(onServer[7]);
    expect((await readdir(downloads)).sort()).toEqual(['Projects', 'Projects (2).mbox', 'Projects.mbox']);
  });

  it('Cancel stops an export, removes the unfinished file and says so', async () => {
    const { service, downloads, account, folder } = await projectsFolder(40);
    const events: SyncProgress[] = [];
    let cancel: Promise<{ stopped: boolean }> | null = null;
    service.onEvent((name, payload) => {
      if (name !== 'syncProgress') return;
      const event = payload as SyncProgress;
      events.push(event);
      // Pressed while the file is being written, like a click on the status area's Cancel.
      if (cancel === null && event.phase === 'export' && event.cancellable === 'export') {
        cancel = service.api.cancelWork({ accountId: account.id, work: event.cancellable });
      }
    });

    await expect(service.api.exportFolder({ folderId: folder.id, format: 'mbox' })).rejects.toMatchObject({
      code: 'CANCELLED',
      message: expect.stringContaining(`${join(downloads, 'Projects.mbox')} was removed`) as unknown,
    });
    expect(await cancel).toEqual({ stopped: true });
    expect(events.at(-1)).toMatchObject({ phase: 'done', cancelled: { work: 'export', phase: 'export' } });
    expect(await readdir(downloads)).toEqual([]);

    // Nothing is left in the way: the next export takes the first name.
    const result = await service.api.exportFolder({ folderId: folder.id, format: 'mbox' });
    expect(result).toMatchObject({ path: join(downloads, 'Projects.mbox'), exported: 40 });
  });

  it('refuses an unknown folder in words, and an unknown format', async () => {
    const { service, folder } = await projectsFolder(4);
    await expect(service.api.exportFolder({ folderId: 'no-such-folder', format: 'mbox' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('no such folder') as unknown,
    });
    await expect(
      service.api.exportFolder({ folderId: folder.id, format: 'zip' as unknown as 'mbox' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
