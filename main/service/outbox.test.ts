/**
 * The outbox against the real Postfix: mail written while the SMTP server cannot be reached waits
 * and goes out on the next attempt; a connection cut after the final "." of DATA is reported as
 * "delivery unknown" and never resent blindly.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { AccountSettings, ServerEndpoint } from '../../shared/model';
import { createTestUser, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { startCuttingProxy } from '../protocols/testing/cutting-proxy';
import { createMailService, type MailService } from './create-service';

const info = inject('mailServer');
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function settings(user: TestUser, smtp: ServerEndpoint): AccountSettings {
  return {
    name: user.username,
    email: user.email,
    mode: 'pop3',
    username: user.username,
    imap: null,
    pop3: { host: info.host, port: info.ports.pop3s, security: 'tls' },
    smtp,
    leaveOnServer: { kind: 'forever' },
    offlineFolders: [],
    checkIntervalMinutes: 0,
  };
}

async function openService(): Promise<MailService> {
  const profileDir = await mkdtemp(join(tmpdir(), 'wa-outbox-'));
  const service = await createMailService({ profileDir, shell: 'cli' });
  cleanups.push(async () => {
    await service.close();
    await rm(profileDir, { recursive: true, force: true });
  });
  return service;
}

async function waitForDelivery(user: TestUser, count: number): Promise<Buffer[]> {
  let delivered: Buffer[] = [];
  for (let attempt = 0; attempt < 100 && delivered.length < count; attempt++) {
    delivered = await readServerMessages(info, user);
    if (delivered.length < count) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return delivered;
}

describe('outbox', () => {
  it('mail written offline waits in the outbox, readable, and is sent when the server is back', async () => {
    const [sender, recipient] = [await createTestUser(info), await createTestUser(info)];
    const service = await openService();
    const closedPort: ServerEndpoint = { host: '127.0.0.1', port: 1, security: 'starttls' };
    const account = await service.api.addAccount({ settings: settings(sender, closedPort), password: sender.password });
    await service.api.sendMessage({
      accountId: account.id,
      to: [{ name: '', address: recipient.email }],
      cc: [],
      bcc: [],
      subject: 'Written offline',
      text: 'Waiting for the network.',
    });
    await service.internals.outbox.flush(account.id);
    const [waiting] = await service.api.listOutbox({ accountId: account.id });
    expect(waiting.state).toBe('queued');
    expect(waiting.lastError).toMatch(/refused|reach/i);
    const outbox = (await service.api.listFolders({ accountId: account.id })).find(
      (folder) => folder.role === 'outbox',
    )!;
    const [stored] = (await service.api.listMessages({ folderId: outbox.id, offset: 0, limit: 10 })).items;
    expect(stored.subject).toBe('Written offline');

    // Back online (the right server): the same message goes out once.
    await service.api.updateAccount({
      accountId: account.id,
      settings: settings(sender, { host: info.host, port: info.ports.submission, security: 'starttls' }),
    });
    await service.internals.outbox.flush(account.id);
    const [sent] = await service.api.listOutbox({ accountId: account.id });
    expect(sent.state).toBe('sent');
    const delivered = await waitForDelivery(recipient, 1);
    expect(delivered).toHaveLength(1);
    expect(delivered[0].toString('latin1')).toContain('Subject: Written offline');
    const sentFolder = (await service.api.listFolders({ accountId: account.id })).find(
      (folder) => folder.role === 'sent',
    )!;
    expect((await service.api.listMessages({ folderId: sentFolder.id, offset: 0, limit: 10 })).total).toBe(1);
  });

  it('a cut after the final "." marks the message "delivery unknown" and a later flush does not resend it', async () => {
    const [sender, recipient] = [await createTestUser(info), await createTestUser(info)];
    const proxy = await startCuttingProxy(
      { host: info.noTls.host, port: info.noTls.submission },
      (bytes) => /\r\nDATA\r\n[\s\S]*\r\n\.\r\n$/.test(bytes),
      true,
    );
    cleanups.push(() => proxy.close());
    const service = await openService();
    const account = await service.api.addAccount({
      settings: settings(sender, { host: '127.0.0.1', port: proxy.port, security: 'none', allowPlaintext: true }),
      password: sender.password,
    });
    await service.api.sendMessage({
      accountId: account.id,
      to: [{ name: '', address: recipient.email }],
      cc: [],
      bcc: [],
      subject: 'Maybe sent',
      text: 'The connection breaks at the end.',
    });
    await service.internals.outbox.flush(account.id);
    const [entry] = await service.api.listOutbox({ accountId: account.id });
    expect(entry.state).toBe('delivery-unknown');
    expect(entry.lastError).toMatch(/may or may not/);
    await service.internals.outbox.flush(account.id);
    // It did arrive, exactly once.
    expect(await waitForDelivery(recipient, 1)).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await readServerMessages(info, recipient)).toHaveLength(1);
  });
});
