/**
 * A 200 MB message (a big attachment someone sent anyway): downloaded by the POP3 engine and by
 * the IMAP engine exactly as the server holds it (SHA-256), without the client's memory growing
 * with the message (resident memory of this process sampled during each download), then listed
 * and opened in bounded time (the parser reads at most MAX_PARSE_INPUT_BYTES of it).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import type { AccountSettings, FolderView } from '../../shared/model';
import { createMailService, type MailService } from '../service/create-service';
import { peakMemoryGrowth, putLargeMessage, type PutLargeResult } from './large-mail';

const info = inject('mailServer');
/** Octets of the attachment; base64 makes the message about 200 MB. */
const ATTACHMENT_BYTES = 150 * 1024 * 1024;
const MEGABYTE = 1024 * 1024;
/**
 * Memory a download may add, whatever the message's size: the socket, parser and file buffers
 * plus the first MAX_PARSE_INPUT_BYTES the index parses, and the garbage collector's slack.
 */
const MEMORY_GROWTH_LIMIT_BYTES = 150 * MEGABYTE;
/** Listing and opening read the index and at most the first 20 MB of the file. */
const OPEN_LIMIT_MS = 10_000;

let user: TestUser;
let large: PutLargeResult;
let profileDir: string;
let service: MailService;

function settingsFor(mode: 'imap' | 'pop3'): AccountSettings {
  return {
    name: `${mode} large`,
    email: user.email,
    mode,
    username: user.username,
    imap: { host: info.host, port: info.ports.imaps, security: 'tls' },
    pop3: { host: info.host, port: info.ports.pop3s, security: 'tls' },
    smtp: null,
    // POP3 leaves the copy so that the IMAP account downloads the same message afterwards.
    leaveOnServer: { kind: 'forever' },
    offlineFolders: ['INBOX'],
    checkIntervalMinutes: 10,
  };
}

async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function inboxOf(accountId: string): Promise<FolderView> {
  const folders = await service.api.listFolders({ accountId });
  const inbox = folders.find((folder) => folder.role === 'inbox');
  if (!inbox) throw new Error('no INBOX');
  return inbox;
}

function megabytes(bytes: number): string {
  return `${(bytes / MEGABYTE).toFixed(0)} MB`;
}

beforeAll(async () => {
  user = await createTestUser(info);
  large = await putLargeMessage(info, user, ATTACHMENT_BYTES, 'a 200 MB attachment');
  profileDir = await mkdtemp(join(tmpdir(), 'wb-huge-'));
  service = await createMailService({ profileDir, shell: 'cli' });
}, 120_000);

afterAll(async () => {
  await service?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

describe('a 200 MB message', () => {
  for (const mode of ['pop3', 'imap'] as const) {
    it(`${mode.toUpperCase()}: downloaded byte-exactly with bounded memory, then listed and opened in time`, async () => {
      expect(large.size).toBeGreaterThan(200 * 1000 * 1000);
      const account = await service.api.addAccount({ settings: settingsFor(mode), password: user.password });
      const started = performance.now();
      const { growthBytes, baselineBytes } = await peakMemoryGrowth(() =>
        service.api.syncAccount({ accountId: account.id }),
      );
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `huge ${mode}: ${megabytes(large.size)} in ${seconds.toFixed(1)} s, resident memory grew by ` +
          `${megabytes(growthBytes)} (from ${megabytes(baselineBytes)})\n`,
      );

      const inbox = await inboxOf(account.id);
      const listStarted = performance.now();
      const page = await service.api.listMessages({ folderId: inbox.id, offset: 0, limit: 10 });
      expect(page.items.map((item) => item.subject)).toEqual([large.subject]);
      const [item] = page.items;
      expect(item.residency).toBe('both');
      expect(item.size).toBe(large.size);
      const detail = await service.api.getMessage({ messageId: item.id });
      const openMs = performance.now() - listStarted;
      process.stdout.write(`huge ${mode}: listed and opened in ${openMs.toFixed(0)} ms\n`);
      expect(openMs).toBeLessThan(OPEN_LIMIT_MS);
      expect(detail.sha256).toBe(large.sha256);
      expect(detail.parts?.map((part) => part.content.trim())).toEqual([
        `A very large attachment follows (${ATTACHMENT_BYTES} octets).`,
      ]);
      const record = service.internals.store.getMessageRecord(item.id);
      expect(await sha256OfFile(record?.localPath ?? '')).toBe(large.sha256);
      expect(growthBytes).toBeLessThan(MEMORY_GROWTH_LIMIT_BYTES);
    }, 120_000);
  }
});
