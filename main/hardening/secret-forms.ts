/**
 * The shapes a password takes when software leaks it: as typed (UTF-8), and in the encodings a
 * careless log line, a config file or a protocol exchange would use. Tests look for every one of
 * them in bytes that must not contain the password (the wire before TLS, the profile on disk).
 */

export interface SecretForm {
  /** How the password is encoded in `bytes`, for a failing test's message. */
  encoding: string;
  bytes: Buffer;
}

/**
 * base64 of the password at each of the three alignments it can have inside a longer base64 text
 * (RFC 4648 section 4 encodes 3-byte groups): only the 4-character groups made of password bytes
 * alone are the same wherever the password sits, so those are what we look for.
 */
function base64Forms(secret: Buffer): SecretForm[] {
  const forms: SecretForm[] = [];
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), secret]).toString('base64');
    const start = shift === 0 ? 0 : 4;
    const end = Math.floor((shift + secret.length) / 3) * 4;
    if (end - start >= 8) {
      forms.push({ encoding: `base64 (offset ${shift})`, bytes: Buffer.from(encoded.slice(start, end), 'latin1') });
    }
  }
  return forms;
}

/** The password as UTF-8, base64, hex (both cases), UTF-16LE, and the SASL PLAIN (RFC 4616) initial response. */
export function secretForms(password: string, username?: string): SecretForm[] {
  const utf8 = Buffer.from(password, 'utf8');
  const forms: SecretForm[] = [
    { encoding: 'UTF-8', bytes: utf8 },
    ...base64Forms(utf8),
    { encoding: 'hex', bytes: Buffer.from(utf8.toString('hex'), 'latin1') },
    { encoding: 'HEX', bytes: Buffer.from(utf8.toString('hex').toUpperCase(), 'latin1') },
    { encoding: 'UTF-16LE', bytes: Buffer.from(password, 'utf16le') },
  ];
  if (username !== undefined) {
    const plain = Buffer.from(`\0${username}\0${password}`, 'utf8').toString('base64');
    forms.push({ encoding: 'SASL PLAIN base64', bytes: Buffer.from(plain, 'latin1') });
  }
  return forms;
}

/** The encodings of `password` found in `haystack` (empty when none). */
export function findSecret(haystack: Buffer, password: string, username?: string): string[] {
  return secretForms(password, username)
    .filter((form) => haystack.includes(form.bytes))
    .map((form) => form.encoding);
}
