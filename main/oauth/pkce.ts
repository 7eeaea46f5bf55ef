/**
 * Proof Key for Code Exchange (RFC 7636) and the `state` value (RFC 6749 §10.12): what keeps an
 * authorization code that another program on this computer catches on the loopback redirect (RFC 8252
 * §8.1) useless to it, and what ties the redirect to the request we made.
 */
import { createHash, randomBytes } from 'node:crypto';

/** 32 random octets → 43 base64url characters, the length RFC 7636 §4.1 recommends. */
const VERIFIER_ENTROPY_BYTES = 32;
const STATE_ENTROPY_BYTES = 16;

export interface PkcePair {
  /** Kept here; sent only with the token request. */
  verifier: string;
  /** BASE64URL(SHA256(verifier)), sent with the authorization request (RFC 7636 §4.2). */
  challenge: string;
  method: 'S256';
}

/** RFC 7636 §4.2, method S256 ("plain" would give the verifier away). */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function createPkcePair(): PkcePair {
  const verifier = randomBytes(VERIFIER_ENTROPY_BYTES).toString('base64url');
  return { verifier, challenge: codeChallenge(verifier), method: 'S256' };
}

export function createState(): string {
  return randomBytes(STATE_ENTROPY_BYTES).toString('base64url');
}
