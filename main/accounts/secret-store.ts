/**
 * Where passwords and OAuth refresh tokens are kept: never in accounts.json, never in plain text.
 *
 * The file store (secrets.ts) encrypts everything it holds as one blob through a `Cipher`. In plain
 * Node that cipher is AES-256-GCM with a key file; the Electron entry point supplies one built on
 * `safeStorage.encryptString/decryptString` (the OS keychain / DPAPI / libsecret), e.g.
 *
 *   const cipher: Cipher = {
 *     encrypt: (plain) => safeStorage.encryptString(plain.toString('base64')),
 *     decrypt: (blob) => Buffer.from(safeStorage.decryptString(blob), 'base64'),
 *   };
 *
 * (base64 because safeStorage takes strings; the round trip is exact for any bytes).
 */

export interface SecretStore {
  /** The stored value, or null when there is none. */
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  /** Removing a key that is not there is not an error. */
  delete(key: string): Promise<void>;
}

/**
 * Turns plaintext into an opaque blob and back. `decrypt` must throw when the blob was not produced
 * by `encrypt` with the same key (tampering, another machine's key, damage): authenticated
 * encryption, not just encryption.
 */
export interface Cipher {
  encrypt(plain: Buffer): Buffer;
  decrypt(blob: Buffer): Buffer;
}

export type SecretKind = 'password' | 'oauth-refresh-token';

/** The key under which an account's secret of one kind is stored. */
export function secretKey(accountId: string, kind: SecretKind): string {
  return `account/${accountId}/${kind}`;
}
