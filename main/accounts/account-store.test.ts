import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailError } from '../../shared/errors';
import type { AccountSettings } from '../../shared/model';
import { AccountStore, parseFingerprint, validateAccountSettings } from './account-store';

const run = promisify(execFile);

function settings(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Work',
    email: 'alice@example.org',
    mode: 'imap',
    username: 'alice',
    imap: { host: 'imap.example.org', port: 993, security: 'tls' },
    pop3: null,
    smtp: { host: 'smtp.example.org', port: 465, security: 'tls' },
    leaveOnServer: { kind: 'off' },
    offlineFolders: ['INBOX'],
    checkIntervalMinutes: 10,
    ...overrides,
  };
}

/** Runs `action`, expects MailError INVALID_INPUT, returns its message. */
async function invalidInputMessage(action: () => Promise<unknown>): Promise<string> {
  const error = await action().then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MailError);
  expect((error as MailError).code).toBe('INVALID_INPUT');
  return (error as MailError).message;
}

let profileDir: string;
let store: AccountStore;

beforeEach(async () => {
  profileDir = await mkdtemp(path.join(os.tmpdir(), 'wa-accounts-'));
  store = new AccountStore(profileDir);
});

afterEach(async () => {
  await rm(profileDir, { recursive: true, force: true });
});

describe('AccountStore', () => {
  it('adds, lists, updates and removes accounts, keeping them in accounts.json', async () => {
    expect(await store.list()).toEqual([]);
    const work = await store.add(settings());
    const home = await store.add(
      settings({
        name: 'Home',
        email: 'bob@example.net',
        mode: 'pop3',
        pop3: { host: 'pop.example.net', port: 995, security: 'tls' },
      }),
    );
    expect(work.id).not.toBe(home.id);
    expect(Date.parse(work.createdAt)).not.toBeNaN();

    // A second store on the same folder (a restart) sees the same accounts.
    const reopened = new AccountStore(profileDir);
    expect((await reopened.list()).map((account) => account.name)).toEqual(['Work', 'Home']);
    expect(await reopened.get(home.id)).toEqual(home);

    const updated = await store.update(work.id, { leaveOnServer: { kind: 'days', days: 14 }, name: 'Office' });
    expect(updated).toMatchObject({
      id: work.id,
      createdAt: work.createdAt,
      name: 'Office',
      leaveOnServer: { kind: 'days', days: 14 },
    });
    expect((await reopened.get(work.id)).name).toBe('Office');

    await store.remove(work.id);
    expect((await reopened.list()).map((account) => account.id)).toEqual([home.id]);
    await expect(store.get(work.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const file = JSON.parse(await readFile(path.join(profileDir, 'accounts.json'), 'utf8')) as { accounts: unknown[] };
    expect(file.accounts).toHaveLength(1);
    expect((await stat(path.join(profileDir, 'accounts.json'))).mode & 0o777).toBe(0o600);
    // Atomic writes leave no temporary files behind.
    expect(await readdir(profileDir)).toEqual(['accounts.json']);
  });

  it('keeps every account when several are added at once', async () => {
    await Promise.all(Array.from({ length: 8 }, (_, index) => store.add(settings({ name: `Account ${index}` }))));
    expect((await store.list()).map((account) => account.name).sort()).toEqual(
      Array.from({ length: 8 }, (_, index) => `Account ${index}`).sort(),
    );
  });

  it('refuses bad input with a sentence naming the field, and leaves the file as it was', async () => {
    const existing = await store.add(settings());
    const filePath = path.join(profileDir, 'accounts.json');
    const before = await readFile(filePath);

    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [settings({ imap: { host: 'imap.example.org', port: 0, security: 'tls' } }), /IMAP port.*1 to 65535/],
      [settings({ smtp: { host: 'smtp.example.org', port: 70000, security: 'tls' } }), /SMTP port.*1 to 65535/],
      [settings({ imap: { host: 'imap.example.org', port: '993', security: 'tls' } }), /IMAP port/],
      [
        settings({ smtp: { host: 'smtp.example.org', port: 465, security: 'ssl' } }),
        /SMTP security must be one of tls, starttls, none.*"ssl"/,
      ],
      [
        settings({ imap: { host: 'imap.example.org', port: 993, security: 'tls', pinnedFingerprint: 'AB:CD' } }),
        /IMAP certificate fingerprint must have 64/,
      ],
      [
        settings({
          imap: { host: 'imap.example.org', port: 993, security: 'tls', pinnedFingerprint: 'zz'.repeat(32) },
        }),
        /IMAP certificate fingerprint may contain only hexadecimal/,
      ],
      [settings({ imap: { host: 'imap.exa mple.org', port: 993, security: 'tls' } }), /IMAP server name/],
      [settings({ email: 'not-an-address' }), /email address/],
      [settings({ mode: 'exchange' }), /mode must be "imap" or "pop3"/],
      [settings({ leaveOnServer: { kind: 'days', days: 0 } }), /number of days in the leave-on-server policy/],
      [settings({ leaveOnServer: { kind: 'sometimes' } }), /leave-on-server policy kind/],
      [settings({ username: 'alice\r\nQUIT' }), /user name must not contain line breaks/],
      [settings({ mode: 'pop3', pop3: null }), /POP3 mode but has no POP3 server/],
      [settings({ smtpHost: 'smtp.example.org' }), /unknown field "smtpHost"/],
      [settings({ checkIntervalMinutes: 2.5 }), /check interval/],
    ];
    for (const [input, expected] of cases) {
      expect(await invalidInputMessage(() => store.add(input))).toMatch(expected);
    }
    expect(
      await invalidInputMessage(() =>
        store.update(existing.id, { smtp: { host: 'smtp.example.org', port: -1, security: 'tls' } }),
      ),
    ).toMatch(/SMTP port/);
    expect(await invalidInputMessage(() => store.update(existing.id, { id: 'other' }))).toMatch(/unknown field "id"/);

    expect((await readFile(filePath)).equals(before)).toBe(true);
    expect(await store.list()).toEqual([existing]);
  });

  it('reports a damaged accounts.json and never overwrites it', async () => {
    const filePath = path.join(profileDir, 'accounts.json');
    const damaged = '{"version":1,"accounts":[{"id":"a","createdAt":"2024-01-01T00:00:00Z","name":"x"';
    await writeFile(filePath, damaged);
    const message = await invalidInputMessage(() => store.list());
    expect(message).toContain(filePath);
    expect(message).toMatch(/damaged/);
    await invalidInputMessage(() => store.add(settings()));
    expect(await readFile(filePath, 'utf8')).toBe(damaged);

    // Well-formed JSON with an invalid account is damaged too, and names the problem.
    await writeFile(
      filePath,
      JSON.stringify({
        version: 1,
        accounts: [
          {
            id: 'a',
            createdAt: '2024-01-01T00:00:00Z',
            ...settings({ imap: { host: 'h', port: 99999, security: 'tls' } }),
          },
        ],
      }),
    );
    expect(await invalidInputMessage(() => store.list())).toMatch(/account #1: The IMAP port/);
  });
});

describe('validateAccountSettings', () => {
  it('returns clean settings: trimmed, host names lower-cased and in ASCII, plaintext permission only with "none"', () => {
    const clean: AccountSettings = validateAccountSettings(
      settings({
        name: '  Work  ',
        imap: { host: 'IMAP.Example.ORG', port: 993, security: 'tls', allowPlaintext: true },
        smtp: {
          host: 'smtp.bücher.example',
          port: 25,
          security: 'none',
          allowPlaintext: true,
          pinnedFingerprint: null,
        },
      }),
    );
    expect(clean.name).toBe('Work');
    expect(clean.imap).toEqual({
      host: 'imap.example.org',
      port: 993,
      security: 'tls',
      allowPlaintext: false,
      pinnedFingerprint: null,
    });
    expect(clean.smtp).toEqual({
      host: 'smtp.xn--bcher-kva.example',
      port: 25,
      security: 'none',
      allowPlaintext: true,
      pinnedFingerprint: null,
    });
  });

  it('reads the fingerprint exactly as `openssl x509 -noout -fingerprint -sha256` prints it', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'wa-fingerprint-'));
    try {
      const certificatePath = path.join(directory, 'cert.pem');
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=pinned.example',
        '-days',
        '1',
        '-keyout',
        path.join(directory, 'key.pem'),
        '-out',
        certificatePath,
      ]);
      const { stdout } = await run('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certificatePath]);
      expect(stdout).toMatch(/^sha256 Fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}\n$/i);
      const expected = new X509Certificate(await readFile(certificatePath)).fingerprint256
        .replaceAll(':', '')
        .toLowerCase();

      expect(parseFingerprint(stdout)).toBe(expected);
      expect(parseFingerprint(stdout.replace(/^.*=/, '').toLowerCase())).toBe(expected);
      expect(parseFingerprint(expected.toUpperCase())).toBe(expected);
      expect(parseFingerprint(`sha256:${expected}`)).toBe(expected);
      const account = await store.add(
        settings({ imap: { host: 'imap.example.org', port: 993, security: 'tls', pinnedFingerprint: stdout } }),
      );
      expect(account.imap?.pinnedFingerprint).toBe(expected);

      const { stdout: sha1 } = await run('openssl', [
        'x509',
        '-noout',
        '-fingerprint',
        '-sha1',
        '-in',
        certificatePath,
      ]);
      expect(() => parseFingerprint(sha1)).toThrow(/SHA-1 fingerprint; a SHA-256 fingerprint is needed/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
