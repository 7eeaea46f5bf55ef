/**
 * The file-based SecretStore: all secrets as one JSON object, encrypted as a whole by a Cipher and
 * written atomically to `<profileDir>/secrets.enc` (mode 0600). In plain-Node mode the cipher is
 * AES-256-GCM (NIST SP 800-38D) with a random 32-byte key in `<profileDir>/secrets.key` (mode 0600).
 *
 * A secrets file that does not decrypt (changed, damaged, or the key file replaced) is reported and
 * left alone: overwriting it would silently destroy every saved password.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { MailError } from '../../shared/errors';
import { fileError, PRIVATE_FILE_MODE, restrictToOwner, SerialQueue, writeFileAtomic } from './atomic-file';
import type { Cipher, SecretStore } from './secret-store';

export const SECRETS_FILE_NAME = 'secrets.enc';
export const SECRETS_KEY_FILE_NAME = 'secrets.key';

const KEY_BYTES = 32;
/** 96-bit nonces are GCM's native size (SP 800-38D §5.2.1.1); random per encryption, one key, few writes. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Identifies the blob format, and is authenticated with it (GCM additional data). */
const BLOB_MAGIC = Buffer.from('WAS1', 'ascii');
const PAYLOAD_VERSION = 1;

/** Thrown by a Cipher when a blob does not authenticate. */
class UndecryptableError extends Error {}

/** AES-256-GCM: magic | nonce | tag | ciphertext, with the magic as additional authenticated data. */
export function createAesGcmCipher(key: Buffer): Cipher {
  if (key.length !== KEY_BYTES) throw new MailError('INTERNAL', `The secrets key must be ${KEY_BYTES} bytes.`);
  return {
    encrypt(plain: Buffer): Buffer {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(BLOB_MAGIC);
      const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([BLOB_MAGIC, nonce, cipher.getAuthTag(), ciphertext]);
    },
    decrypt(blob: Buffer): Buffer {
      const headerBytes = BLOB_MAGIC.length + NONCE_BYTES + TAG_BYTES;
      if (blob.length < headerBytes || !blob.subarray(0, BLOB_MAGIC.length).equals(BLOB_MAGIC)) {
        throw new UndecryptableError('not a Whereabouts secrets file');
      }
      const nonce = blob.subarray(BLOB_MAGIC.length, BLOB_MAGIC.length + NONCE_BYTES);
      const tag = blob.subarray(BLOB_MAGIC.length + NONCE_BYTES, headerBytes);
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(BLOB_MAGIC);
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(blob.subarray(headerBytes)), decipher.final()]);
      } catch {
        throw new UndecryptableError('authentication failed');
      }
    },
  };
}

async function exists(filePath: string): Promise<boolean> {
  try {
    await stat(filePath);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return false;
    throw fileError(error, filePath, 'read');
  }
}

/**
 * Loads the key from `<profileDir>/secrets.key`, creating it on first use. A missing key while a
 * secrets file exists is an error: a new key could never open the old file.
 */
export async function loadKeyFileCipher(profileDir: string): Promise<Cipher> {
  const keyPath = path.join(profileDir, SECRETS_KEY_FILE_NAME);
  let key: Buffer;
  try {
    key = await readFile(keyPath);
    // The key is only as private as its file; narrow a copy made with wider permissions.
    await restrictToOwner(keyPath);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw fileError(error, keyPath, 'read');
    if (await exists(path.join(profileDir, SECRETS_FILE_NAME))) {
      throw new MailError(
        'INTERNAL',
        `The key file ${keyPath} is missing, so the saved passwords in ${SECRETS_FILE_NAME} cannot be read. ` +
          'Restore the key file, or move the secrets file away and enter your passwords again.',
      );
    }
    key = randomBytes(KEY_BYTES);
    await mkdir(profileDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(keyPath, key, PRIVATE_FILE_MODE);
  }
  if (key.length !== KEY_BYTES) {
    throw new MailError(
      'INTERNAL',
      `The key file ${keyPath} is damaged (${key.length} bytes instead of ${KEY_BYTES}); the saved passwords cannot be read.`,
    );
  }
  return createAesGcmCipher(key);
}

export class FileSecretStore implements SecretStore {
  private readonly queue = new SerialQueue();

  constructor(
    readonly filePath: string,
    private readonly cipher: Cipher,
  ) {}

  async get(key: string): Promise<string | null> {
    const secrets = await this.queue.run(() => this.read());
    return secrets.get(key) ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    if (typeof key !== 'string' || key === '') throw new MailError('INVALID_INPUT', 'A secret needs a name.');
    if (typeof value !== 'string') throw new MailError('INVALID_INPUT', 'A secret must be text.');
    await this.queue.run(async () => {
      const secrets = await this.read();
      secrets.set(key, value);
      await this.write(secrets);
    });
  }

  async delete(key: string): Promise<void> {
    await this.queue.run(async () => {
      const secrets = await this.read();
      if (!secrets.delete(key)) return;
      await this.write(secrets);
    });
  }

  private unreadable(reason: string): MailError {
    return new MailError(
      'INTERNAL',
      `The saved passwords in ${this.filePath} cannot be read: ${reason}. The file was left unchanged. ` +
        'If it was damaged, move it away and enter your passwords again.',
    );
  }

  private async read(): Promise<Map<string, string>> {
    let blob: Buffer;
    try {
      blob = await readFile(this.filePath);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return new Map();
      throw fileError(error, this.filePath, 'read');
    }
    let plain: Buffer;
    try {
      plain = this.cipher.decrypt(blob);
    } catch (error) {
      const detail = error instanceof Error && error.message ? ` (${error.message})` : '';
      throw this.unreadable(`it was changed or damaged, or it belongs to another key${detail}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(plain.toString('utf8'));
    } catch {
      throw this.unreadable('its decrypted contents are not valid');
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      (parsed as { version?: unknown }).version !== PAYLOAD_VERSION ||
      typeof (parsed as { secrets?: unknown }).secrets !== 'object' ||
      (parsed as { secrets?: unknown }).secrets === null
    ) {
      throw this.unreadable('its decrypted contents are not in the expected format');
    }
    const secrets = new Map<string, string>();
    for (const [key, value] of Object.entries((parsed as { secrets: Record<string, unknown> }).secrets)) {
      if (typeof value !== 'string') throw this.unreadable(`the entry ${JSON.stringify(key)} is not text`);
      secrets.set(key, value);
    }
    return secrets;
  }

  private async write(secrets: Map<string, string>): Promise<void> {
    await mkdir(path.dirname(this.filePath), { recursive: true, mode: 0o700 });
    const payload = JSON.stringify({ version: PAYLOAD_VERSION, secrets: Object.fromEntries(secrets) });
    const plain = Buffer.from(payload, 'utf8');
    try {
      await writeFileAtomic(this.filePath, this.cipher.encrypt(plain), PRIVATE_FILE_MODE);
    } finally {
      // Do not leave the plaintext lying in a reusable buffer longer than needed.
      plain.fill(0);
    }
  }
}

/**
 * The secret store for a profile: `cipher` from the Electron side (safeStorage) when given, else
 * the AES-256-GCM key file of plain-Node mode.
 */
export async function openFileSecretStore(profileDir: string, cipher?: Cipher): Promise<FileSecretStore> {
  return new FileSecretStore(path.join(profileDir, SECRETS_FILE_NAME), cipher ?? (await loadKeyFileCipher(profileDir)));
}
