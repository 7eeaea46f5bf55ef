import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MailError } from '../../shared/errors';
import { secretKey, type Cipher } from './secret-store';
import { createAesGcmCipher, FileSecretStore, openFileSecretStore } from './secrets';

let profileDir: string;

beforeEach(async () => {
  profileDir = await mkdtemp(path.join(os.tmpdir(), 'wa-secrets-'));
});

afterEach(async () => {
  await rm(profileDir, { recursive: true, force: true });
});

async function everyFile(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('FileSecretStore (plain-Node mode)', () => {
  it('never writes a password in a readable form, and keeps key and secrets private to the user', async () => {
    const password = `pw-${randomBytes(9).toString('hex')}-Ünïcode`;
    const store = await openFileSecretStore(profileDir);
    await store.set(secretKey('account-1', 'password'), password);
    await store.set(secretKey('account-2', 'oauth-refresh-token'), 'second secret');

    const files = await everyFile(profileDir);
    expect(files.map((file) => path.basename(file)).sort()).toEqual(['secrets.enc', 'secrets.key']);
    const needles = [
      Buffer.from(password, 'utf8'),
      Buffer.from(Buffer.from(password, 'utf8').toString('base64')),
      Buffer.from(Buffer.from(password, 'utf8').toString('hex')),
      Buffer.from(password, 'utf16le'),
    ];
    for (const file of files) {
      const contents = await readFile(file);
      for (const needle of needles) expect(contents.includes(needle), `${file} contains the password`).toBe(false);
      expect((await stat(file)).mode & 0o777, `${file} mode`).toBe(0o600);
    }

    // A fresh store (the next start) reads what was stored.
    const reopened = await openFileSecretStore(profileDir);
    expect(await reopened.get(secretKey('account-1', 'password'))).toBe(password);
    expect(await reopened.get('account/unknown/password')).toBeNull();
    await reopened.delete(secretKey('account-1', 'password'));
    await reopened.delete(secretKey('account-1', 'password'));
    expect(await store.get(secretKey('account-1', 'password'))).toBeNull();
    expect(await store.get(secretKey('account-2', 'oauth-refresh-token'))).toBe('second secret');
  });

  it('reports a tampered secrets file clearly and leaves it untouched', async () => {
    const store = await openFileSecretStore(profileDir);
    await store.set('account/a/password', 'hunter2');
    const filePath = path.join(profileDir, 'secrets.enc');
    const original = await readFile(filePath);
    const tampered = Buffer.from(original);
    tampered[tampered.length - 1] ^= 0x01;
    await writeFile(filePath, tampered);

    const error = await store.get('account/a/password').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailError);
    expect((error as MailError).message).toMatch(
      /saved passwords in .*secrets\.enc cannot be read: it was changed or damaged/,
    );
    expect((error as MailError).message).toMatch(/left unchanged/);
    // Writing must not "repair" it by starting over: every other saved password would be lost.
    await expect(store.set('account/b/password', 'other')).rejects.toThrow(/cannot be read/);
    expect((await readFile(filePath)).equals(tampered)).toBe(true);

    // Putting the genuine bytes back makes everything readable again.
    await writeFile(filePath, original);
    expect(await store.get('account/a/password')).toBe('hunter2');
  });

  it('refuses to invent a new key while secrets encrypted with the old one exist', async () => {
    const store = await openFileSecretStore(profileDir);
    await store.set('account/a/password', 'hunter2');
    await unlink(path.join(profileDir, 'secrets.key'));
    await expect(openFileSecretStore(profileDir)).rejects.toThrow(/key file .*secrets\.key is missing/);
    expect(await readdir(profileDir)).toEqual(['secrets.enc']);

    // A key from elsewhere does not open the file either.
    await writeFile(path.join(profileDir, 'secrets.key'), randomBytes(32), { mode: 0o600 });
    const wrongKey = await openFileSecretStore(profileDir);
    await expect(wrongKey.get('account/a/password')).rejects.toThrow(/belongs to another key/);
  });

  it('encrypts through an injected cipher (how the Electron safeStorage cipher plugs in)', async () => {
    const key = randomBytes(32);
    const aes = createAesGcmCipher(key);
    const calls: string[] = [];
    const cipher: Cipher = {
      encrypt: (plain) => {
        calls.push('encrypt');
        return aes.encrypt(plain);
      },
      decrypt: (blob) => {
        calls.push('decrypt');
        return aes.decrypt(blob);
      },
    };
    const store = await openFileSecretStore(profileDir, cipher);
    await store.set('account/a/password', 'through the cipher');
    expect(calls).toContain('encrypt');
    // No key file: the injected cipher holds its own key (safeStorage's is in the OS keychain).
    expect(await readdir(profileDir)).toEqual(['secrets.enc']);
    const independent = new FileSecretStore(path.join(profileDir, 'secrets.enc'), createAesGcmCipher(key));
    expect(await independent.get('account/a/password')).toBe('through the cipher');
  });
});
