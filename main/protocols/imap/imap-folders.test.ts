/**
 * Folders on the real server (SEMANTICS S3, S7, S9, S12): special-use roles, subscriptions,
 * create/rename/delete, what SELECT reports, and the quota with its "full" error.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessage } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { implicitTls, simpleMessage, starttls, withSession } from './imap-test-support';

const info = inject('mailServer');
let user: TestUser;

beforeAll(async () => {
  user = await createTestUser(info);
});

describe('listing folders', () => {
  it('finds INBOX and the SPECIAL-USE folders with their roles and subscription', async () => {
    await withSession(user, implicitTls(info), async (session) => {
      const folders = await session.listFolders();
      const byRole = new Map(folders.map((folder) => [folder.role, folder]));
      expect(byRole.get('inbox')).toMatchObject({ path: 'INBOX', roleSource: 'inbox', selectable: true });
      for (const [role, path] of [
        ['sent', 'Sent'],
        ['drafts', 'Drafts'],
        ['trash', 'Trash'],
        ['junk', 'Junk'],
      ] as const) {
        expect(byRole.get(role)).toMatchObject({ path, roleSource: 'special-use', subscribed: true, parentPath: null });
      }
    });
  });
});

describe('creating, renaming, deleting and subscribing', () => {
  it('creates nested folders (subscribed), reports an existing one, renames and deletes them', async () => {
    await withSession(user, starttls(info), async (session) => {
      expect(await session.createFolder('Projects')).toEqual({ created: true });
      expect(await session.createFolder('Projects/2024')).toEqual({ created: true });
      expect(await session.createFolder('Projects')).toEqual({ created: false });
      let folders = await session.listFolders();
      const nested = folders.find((folder) => folder.path === 'Projects/2024');
      expect(nested).toMatchObject({
        name: '2024',
        parentPath: 'Projects',
        delimiter: '/',
        subscribed: true,
        role: null,
      });

      await session.setSubscribed('Projects/2024', false);
      folders = await session.listFolders();
      expect(folders.find((folder) => folder.path === 'Projects/2024')?.subscribed).toBe(false);
      await session.setSubscribed('Projects/2024', true);
      folders = await session.listFolders();
      expect(folders.find((folder) => folder.path === 'Projects/2024')?.subscribed).toBe(true);

      await session.renameFolder('Projects/2024', 'Archive 2024');
      folders = await session.listFolders();
      expect(folders.map((folder) => folder.path)).toContain('Archive 2024');
      expect(folders.map((folder) => folder.path)).not.toContain('Projects/2024');

      await session.deleteFolder('Archive 2024');
      await session.deleteFolder('Projects');
      folders = await session.listFolders();
      expect(folders.map((folder) => folder.path)).not.toContain('Archive 2024');
      expect(folders.map((folder) => folder.path)).not.toContain('Projects');
    });
  });

  it('reports what the server refused, in its words', async () => {
    await withSession(user, implicitTls(info), async (session) => {
      await expect(session.deleteFolder('No such folder')).rejects.toMatchObject({
        code: 'NOT_FOUND',
        details: { serverText: expect.stringMatching(/doesn't exist/) },
      });
      await expect(session.select('No such folder')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(session.status('No such folder')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  it('renames the selected folder without expunging its \\Deleted messages (no implicit CLOSE)', async () => {
    const owner = await createTestUser(info);
    await putMessage(info, owner, simpleMessage('kept'), 'Selected');
    await putMessage(info, owner, simpleMessage('marked deleted by someone'), 'Selected', { flags: ['T'] });
    await withSession(owner, implicitTls(info), async (session) => {
      expect((await session.select('Selected')).exists).toBe(2);
      await session.renameFolder('Selected', 'Renamed');
      const renamed = await session.select('Renamed', { readOnly: true });
      expect(renamed.exists).toBe(2);
    });
  });
});

describe('SELECT and STATUS', () => {
  it('reports UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and the counts', async () => {
    const owner = await createTestUser(info);
    await putMessage(info, owner, simpleMessage('one'));
    await putMessage(info, owner, simpleMessage('two'), 'INBOX', { flags: ['S'] });
    await putMessage(info, owner, simpleMessage('three'));
    await withSession(owner, implicitTls(info), async (session) => {
      const writable = await session.select('INBOX');
      expect(writable).toMatchObject({ path: 'INBOX', uidNext: 4, exists: 3, readOnly: false });
      expect(writable.uidValidity).toBeGreaterThan(0);
      expect(typeof writable.highestModseq).toBe('bigint');
      expect(writable.permanentFlags).toContain('\\Deleted');
      const readOnly = await session.select('INBOX', { readOnly: true });
      expect(readOnly).toMatchObject({ readOnly: true, uidValidity: writable.uidValidity, exists: 3 });
      expect(await session.status('INBOX')).toMatchObject({
        messages: 3,
        unseen: 2,
        uidNext: 4,
        uidValidity: writable.uidValidity,
      });
    });
  });
});

describe('quota', () => {
  it('reports usage and limit in bytes, and refuses an APPEND over quota with QUOTA_EXCEEDED', async () => {
    const small = await createTestUser(info, { quotaMegabytes: 1 });
    const stored = simpleMessage('some mail', 'x'.repeat(100_000));
    await putMessage(info, small, stored);
    await withSession(small, implicitTls(info), async (session) => {
      const quota = await session.quota('INBOX');
      expect(quota).not.toBeNull();
      expect(quota?.limit).toBe(1024 * 1024);
      // Dovecot counts in KiB (RFC 9208 STORAGE), so usage is the message size rounded to KiB.
      expect(quota?.usage).toBeGreaterThanOrEqual(Math.floor(stored.length / 1024) * 1024);
      expect(quota?.usage).toBeLessThan(stored.length + 2048);

      const tooBig = simpleMessage('too big', 'y'.repeat(2 * 1024 * 1024));
      const error = await session.append('INBOX', tooBig).then(
        () => null,
        (reason: unknown) => reason,
      );
      expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { serverText: expect.stringMatching(/quota/i) } });
      expect((await session.status('INBOX')).messages).toBe(1);
    });
  });
});
