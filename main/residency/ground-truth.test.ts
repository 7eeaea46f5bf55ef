/**
 * The residency model against the ground truth (S14): after each step of a scenario, the counts
 * and bytes the user is shown equal what is physically in Dovecot's Maildir for that user and in
 * our local Maildir — compared by content (SHA-256), not by what the index believes.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { AccountSettings, ResidencyTotals } from '../../shared/model';
import { createTestUser, putMessages, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { createMailService, type MailService } from '../service/create-service';

const info = inject('mailServer');
const DAY_MS = 86_400_000;
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function filesUnder(directory: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true }).catch(() => [])) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(path)));
    else if (directory.endsWith('/cur') || directory.endsWith('/new')) found.push(await readFile(path));
  }
  return found;
}

/** What is physically where: the server's Maildir folders against our local Maildir, by content. */
async function groundTruth(
  user: TestUser,
  serverFolders: readonly string[],
  localDir: string,
): Promise<ResidencyTotals> {
  const server = new Map<string, number>();
  for (const folder of serverFolders) {
    for (const bytes of await readServerMessages(info, user, folder)) server.set(sha256(bytes), bytes.length);
  }
  const local = new Map<string, number>();
  for (const bytes of await filesUnder(localDir)) local.set(sha256(bytes), bytes.length);
  const totals: ResidencyTotals = {
    server: { count: 0, bytes: 0 },
    local: { count: 0, bytes: 0 },
    both: { count: 0, bytes: 0 },
  };
  for (const [hash, size] of local) {
    const side = server.has(hash) ? totals.both : totals.local;
    side.count++;
    side.bytes += size;
  }
  for (const [hash, size] of server) {
    if (local.has(hash)) continue;
    totals.server.count++;
    totals.server.bytes += size;
  }
  return totals;
}

function message(index: number): Buffer {
  return Buffer.from(
    `From: Sender ${index} <s${index}@example.org>\r\nSubject: Message ${index}\r\nMessage-ID: <gt-${index}-${Date.now()}@test>\r\n\r\n` +
      `${'body line\r\n'.repeat(index * 7)}`,
  );
}

function settings(
  user: TestUser,
  mode: 'imap' | 'pop3',
  leaveOnServer: AccountSettings['leaveOnServer'],
): AccountSettings {
  return {
    name: user.username,
    email: user.email,
    mode,
    username: user.username,
    imap: { host: info.host, port: info.ports.imaps, security: 'tls' },
    pop3: { host: info.host, port: info.ports.pop3s, security: 'tls' },
    smtp: null,
    leaveOnServer,
    offlineFolders: ['INBOX'],
    checkIntervalMinutes: 0,
  };
}

describe('residency ground truth', () => {
  it('S14 the model equals what is on the server and here, after every step', async () => {
    const user = await createTestUser(info);
    await putMessages(info, user, [message(1), message(2), message(3), message(4)]);
    const profileDir = await mkdtemp(join(tmpdir(), 'wa-truth-'));
    let clock = Date.now();
    const service: MailService = await createMailService({
      profileDir,
      shell: 'cli',
      engineOptions: { now: () => new Date(clock) },
    });
    cleanups.push(async () => {
      await service.close();
      await rm(profileDir, { recursive: true, force: true });
    });
    const account = await service.api.addAccount({
      settings: settings(user, 'pop3', { kind: 'days', days: 3 }),
      password: user.password,
    });
    const localDir = join(profileDir, 'mail', account.id);
    const check = async (step: string, folders: readonly string[] = ['INBOX']): Promise<ResidencyTotals> => {
      const model = (await service.api.getResidency({ accountId: account.id })).accounts[0].totals;
      expect(model, step).toEqual(await groundTruth(user, folders, localDir));
      return model;
    };
    const inboxMessages = async () => {
      const inbox = (await service.api.listFolders({ accountId: account.id })).find(
        (folder) => folder.role === 'inbox' && folder.kind === 'local',
      )!;
      return (
        await service.api.listMessages({ folderId: inbox.id, offset: 0, limit: 100, sort: 'subject', direction: 'asc' })
      ).items;
    };

    // 1. Download with a copy left on the server: everything is in both places.
    await service.api.syncAccount({ accountId: account.id });
    expect((await check('download with copy')).both.count).toBe(4);

    // 2. Delete one here: it now lives on the server only.
    const [first] = await inboxMessages();
    await service.api.deleteMessages({ messageIds: [first.id] });
    expect((await check('delete here')).server.count).toBe(1);

    // 3. Another client deletes one on the server: after the next check it is here only.
    const other = new ImapFlow({
      host: info.host,
      port: info.ports.imaps,
      secure: true,
      auth: { user: user.username, pass: user.password },
      logger: false,
    });
    await other.connect();
    await other.mailboxOpen('INBOX');
    await other.messageDelete({ header: { subject: 'Message 2' } });
    await other.logout();
    await service.api.syncAccount({ accountId: account.id });
    const afterOtherClient = await check('deleted on the server by another client');
    expect(afterOtherClient.local.count).toBe(1);

    // 4. Four days later the 3-day policy removes the server copies of what is here.
    clock += 4 * DAY_MS;
    await service.api.syncAccount({ accountId: account.id });
    const expired = await check('N-days expiry');
    expect(expired.both.count).toBe(0);
    expect((await readServerMessages(info, user)).length).toBe(0);

    // 5. Switch to IMAP and upload what only this computer has: in both places again.
    const change = { kind: 'switch-mode', to: 'imap', uploadLocalTo: 'INBOX' } as const;
    const plan = await service.api.planChange({ accountId: account.id, change });
    await service.api.switchMode({ accountId: account.id, change });
    const uploaded = await check('switch with upload');
    expect(uploaded).toEqual(plan.after);
    expect(uploaded.local.count).toBe(0);
    expect(uploaded.both.count).toBe(3);
  });
});
