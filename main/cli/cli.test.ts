/**
 * The headless CLI as a user runs it: a separate process, JSON out, clear errors and exit codes.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser, putMessages, readServerMessages } from '../../e2e/mailserver/test-users';
import type { TestUser } from '../../e2e/mailserver/types';
import { splitMbox } from '../service/export-import';

const run = promisify(execFile);
const info = inject('mailServer');
const CLI = join(__dirname, 'main.ts');
const TSX = join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');

let profileDir: string;
let user: TestUser;

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [CLI, '--profile', profileDir, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

beforeAll(async () => {
  profileDir = await mkdtemp(join(tmpdir(), 'wa-cli-'));
  user = await createTestUser(info);
  await putMessages(info, user, [
    Buffer.from(
      'From: Ada <ada@example.org>\r\nSubject: Lovelace notes\r\nMessage-ID: <n1@test>\r\n\r\nAnalytical engine\r\n',
    ),
    Buffer.from('From: Bob <bob@example.org>\r\nSubject: Lunch\r\nMessage-ID: <n2@test>\r\n\r\nNoon?\r\n'),
  ]);
});

afterAll(async () => {
  await rm(profileDir, { recursive: true, force: true });
});

describe('whereabouts CLI', () => {
  it('adds a POP3 account, downloads, lists with residency and sha256, searches and reports residency', async () => {
    const added = await cli(
      [
        '--json',
        'account',
        'add',
        '--name',
        'home',
        '--email',
        user.email,
        '--mode',
        'pop3',
        '--host',
        info.host,
        '--port',
        String(info.ports.pop3s),
        '--security',
        'tls',
        '--user',
        user.username,
        '--password-env',
        'WA_TEST_PASSWORD',
        '--leave-on-server',
        'forever',
        '--smtp-host',
        info.host,
        '--smtp-port',
        String(info.ports.submission),
        '--smtp-security',
        'starttls',
      ],
      { WA_TEST_PASSWORD: user.password },
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'home', mode: 'pop3' });

    expect((await cli(['sync', '--account', 'home'])).code).toBe(0);
    const listed = await cli(['--json', 'list', 'INBOX', '--account', 'home']);
    expect(listed.code).toBe(0);
    const messages = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(messages).toHaveLength(2);
    const server = await readServerMessages(info, user);
    const serverHashes = server.map((bytes) => createHash('sha256').update(bytes).digest('hex')).sort();
    expect(messages.map((message) => message.sha256).sort()).toEqual(serverHashes);
    for (const message of messages) {
      expect(Object.keys(message).sort()).toEqual(
        ['date', 'flags', 'folder', 'from', 'id', 'messageId', 'path', 'residency', 'sha256', 'size', 'subject'].sort(),
      );
      expect(message.residency).toBe('both');
    }

    // Export (the same code as the UI's exportFolder): every message, never over an existing file.
    const mbox = join(profileDir, 'inbox.mbox');
    const exportArgs = ['--json', 'export', 'INBOX', '--account', 'home', '--format', 'mbox', '--out', mbox];
    const exported = await cli(exportArgs);
    expect(exported.code).toBe(0);
    expect(JSON.parse(exported.stdout)).toEqual({ path: mbox, exported: 2, skipped: 0 });
    const inMbox = splitMbox(await readFile(mbox)).map((bytes) => createHash('sha256').update(bytes).digest('hex'));
    expect(inMbox.sort()).toEqual(serverHashes);
    const again = await cli(exportArgs);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already exists');

    const found = JSON.parse((await cli(['--json', 'search', 'analytical'])).stdout) as Array<{ subject: string }>;
    expect(found.map((message) => message.subject)).toEqual(['Lovelace notes']);

    const residency = JSON.parse((await cli(['--json', 'residency', '--account', 'home'])).stdout) as {
      accounts: Array<{ totals: Record<string, { count: number; bytes: number }> }>;
    };
    expect(residency.accounts[0].totals.both.count).toBe(2);
    expect(residency.accounts[0].totals.server).toEqual({ count: 0, bytes: 0 });

    const whatIf = JSON.parse(
      (await cli(['--json', 'residency', '--account', 'home', '--what-if', 'leave=off'])).stdout,
    ) as {
      plan: { totals: { deleteOnServer: { count: number } } };
    };
    expect(whatIf.plan.totals.deleteOnServer.count).toBe(2);

    const body = join(profileDir, 'body.txt');
    await writeFile(body, 'Hello from the CLI.\n');
    const sent = await cli([
      '--json',
      'send',
      '--account',
      'home',
      '--to',
      user.email,
      '--subject',
      'CLI hello',
      '--body-file',
      body,
    ]);
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({ state: 'sent' });

    const folders = JSON.parse((await cli(['--json', 'folders', '--account', 'home'])).stdout) as Array<{
      path: string;
      kind: string;
    }>;
    expect(folders.filter((folder) => folder.kind === 'local').map((folder) => folder.path)).toEqual(
      expect.arrayContaining(['INBOX', 'Sent']),
    );
    // POP3 has no server folders: said plainly (S12, S5).
    const mkdir = await cli(['mkdir', 'Projects', '--account', 'home']);
    expect(mkdir.code).not.toBe(0);
    expect(mkdir.stderr).toMatch(/POP/);
  });

  it('says clearly what is wrong, with a non-zero exit code', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const badOption = await cli(['sync', '--bogus']);
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toMatch(/Unknown option --bogus/);
    const missingAccount = await cli(['sync', '--account', 'nobody']);
    expect(missingAccount.code).toBe(1);
    expect(missingAccount.stderr).toMatch(/no account called "nobody"/);
    const noPassword = await cli([
      'account',
      'add',
      '--email',
      'x@example.org',
      '--mode',
      'imap',
      '--host',
      'h',
      '--password-env',
      'WA_UNSET_VARIABLE',
    ]);
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr).toMatch(/WA_UNSET_VARIABLE/);
  });
});
