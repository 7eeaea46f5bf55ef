/**
 * One place that turns what Node's `net`/`tls` report into MailErrors a person can act on, and
 * the TLS options every protocol adapter (IMAP, POP3, SMTP) connects with. Shared so that a
 * self-signed server, an expired certificate or a refused port read the same in every protocol.
 *
 * Trust model (DESIGN.md, Security): certificates are verified against the trusted CAs and the
 * host name (RFC 6125) by default. A server whose certificate does not verify is accepted only
 * when the account pins that certificate's SHA-256 fingerprint, and then exactly that
 * certificate and no other.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';
import { MailError } from '../../shared/errors';

/** Where a connection was going, for messages and error details. */
export interface ConnectionTarget {
  host: string;
  port: number;
}

/** What the caller knows about the certificate at the moment something failed. */
export interface CertificateFacts {
  /** SHA-256 of the server's certificate, 64 lower-case hex digits. */
  fingerprint?: string;
  /** The certificate's subjectAltName as Node prints it, e.g. "DNS:example.org, IP Address:10.0.0.1". */
  subjectAltName?: string;
  /** When the certificate stops being valid, as Node prints it. */
  validTo?: string;
  validFrom?: string;
}

export interface TlsTrustOptions extends ConnectionTarget {
  /** SHA-256 fingerprint the user chose to trust (hex, colons and case ignored). */
  pinnedFingerprint?: string | null;
  /**
   * Extra trusted CA certificates (PEM). Replaces Node's bundled roots, so it is meant for a
   * private CA (a company CA, or the test CA of our own test servers).
   */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** Node's certificate verification codes (OpenSSL X509_V_ERR_* names) meaning "no trusted issuer". */
const UNTRUSTED_CERTIFICATE_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
]);
const EXPIRED_CERTIFICATE_CODES: ReadonlySet<string> = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const HOSTNAME_MISMATCH_CODES: ReadonlySet<string> = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH']);
const HOST_NOT_FOUND_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);
const CONNECTION_LOST_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ENETRESET',
  'ERR_STREAM_DESTROYED',
  'ERR_SOCKET_CLOSED',
]);
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL']);
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ERR_TLS_HANDSHAKE_TIMEOUT']);

const HEX_DIGITS_PER_SHA256 = 64;

/** "AB:CD:…" (Node's `fingerprint256`) → "abcd…"; anything that is not a SHA-256 → undefined. */
export function normalizeFingerprint(fingerprint: string | null | undefined): string | undefined {
  if (!fingerprint) return undefined;
  const hex = fingerprint.replace(/[^0-9a-f]/gi, '').toLowerCase();
  return hex.length === HEX_DIGITS_PER_SHA256 ? hex : undefined;
}

/** "abcd…" → "ab:cd:…", the form people compare by eye (and the form `openssl x509 -fingerprint` prints). */
export function formatFingerprint(fingerprint: string): string {
  return (normalizeFingerprint(fingerprint) ?? fingerprint).replace(/(..)(?!$)/g, '$1:');
}

export function certificateFacts(certificate: PeerCertificate | null | undefined): CertificateFacts {
  // getPeerCertificate() returns {} (not null) when there is no certificate.
  if (!certificate || typeof certificate.fingerprint256 !== 'string') return {};
  return {
    fingerprint: normalizeFingerprint(certificate.fingerprint256),
    subjectAltName: certificate.subjectaltname,
    validTo: certificate.valid_to,
    validFrom: certificate.valid_from,
  };
}

/**
 * Node options for `tls.connect` / `tls.TLSSocket`. Without a pin, Node itself rejects a bad
 * certificate (`rejectUnauthorized`) and `verifyTlsPeer` is a second check. With a pin the chain
 * cannot verify (that is why the user pinned it), so Node is told not to reject, and
 * `verifyTlsPeer` — which callers must run on 'secureConnect' before sending a byte — accepts
 * exactly the pinned certificate.
 */
export function tlsConnectionOptions(options: TlsTrustOptions): ConnectionOptions {
  const pinned = normalizeFingerprint(options.pinnedFingerprint);
  return {
    host: options.host,
    port: options.port,
    // RFC 6066 §3: SNI carries host names only, never an IP address literal.
    servername: isIP(options.host) === 0 ? options.host : undefined,
    minVersion: 'TLSv1.2',
    rejectUnauthorized: pinned === undefined,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  };
}

/**
 * Records the server certificate as soon as the handshake completes — before Node's own check
 * can destroy the socket — so that a rejected certificate can still be reported with its
 * fingerprint (the user needs it to pin the certificate). Call right after `tls.connect`.
 * Uses the TLSSocket 'secure' event, which Node emits just before it verifies the peer.
 */
export function watchPeerCertificate(socket: TLSSocket): () => CertificateFacts {
  let facts: CertificateFacts = {};
  const remember = (): void => {
    facts = certificateFacts(socket.getPeerCertificate());
  };
  socket.prependOnceListener('secure', remember);
  socket.prependOnceListener('secureConnect', remember);
  return () => facts;
}

/**
 * The trust decision for an established TLS socket; returns the error to fail with, or
 * undefined when the peer is trusted. Must run before anything (credentials!) is written.
 */
export function verifyTlsPeer(socket: TLSSocket, options: TlsTrustOptions): MailError | undefined {
  const facts = certificateFacts(socket.getPeerCertificate());
  const pinned = normalizeFingerprint(options.pinnedFingerprint);
  if (pinned !== undefined) {
    if (facts.fingerprint === pinned) return undefined;
    return certificateChangedError(options, facts);
  }
  if (socket.authorized) return undefined;
  const reason = socket.authorizationError;
  const code = typeof reason === 'string' ? reason : (reason?.message ?? 'CERT_UNTRUSTED');
  return toMailError(Object.assign(new Error(code), { code }), options, facts);
}

function certificateChangedError(target: ConnectionTarget, facts: CertificateFacts): MailError {
  const presented = facts.fingerprint ? ` (SHA-256 ${formatFingerprint(facts.fingerprint)})` : '';
  return new MailError(
    'CERT_UNTRUSTED',
    `${target.host} presented a different certificate${presented} from the one you chose to trust. ` +
      'If the server’s certificate was replaced on purpose, trust the new one; otherwise someone may be ' +
      'intercepting the connection.',
    { ...targetDetails(target), fingerprint: facts.fingerprint },
  );
}

function targetDetails(target: ConnectionTarget): { host: string; port: number } {
  return { host: target.host, port: target.port };
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Maps anything a connection attempt or an open connection threw to a MailError. MailErrors pass
 * through unchanged; `facts` supplies the certificate when the error is about it.
 */
export function toMailError(error: unknown, target: ConnectionTarget, facts: CertificateFacts = {}): MailError {
  if (error instanceof MailError) return error;
  const code = errorCode(error) ?? '';
  const where = `${target.host}:${target.port}`;
  const details = targetDetails(target);
  const reason = error instanceof Error ? error.message : String(error);

  if (UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    const trustHint = facts.fingerprint
      ? ` If you know this server, you can trust this certificate: SHA-256 ${formatFingerprint(facts.fingerprint)}`
      : '';
    const kind = code.includes('SELF_SIGNED') ? ' (it is self-signed)' : '';
    return new MailError('CERT_UNTRUSTED', `The certificate of ${target.host} is not trusted${kind}.${trustHint}`, {
      ...details,
      fingerprint: facts.fingerprint,
    });
  }
  if (EXPIRED_CERTIFICATE_CODES.has(code)) {
    const message =
      code === 'CERT_NOT_YET_VALID'
        ? `The certificate of ${target.host} is not valid yet${facts.validFrom ? ` (valid from ${facts.validFrom})` : ''}. Check this computer's clock.`
        : `The certificate of ${target.host} has expired${facts.validTo ? ` (on ${facts.validTo})` : ''}. The server's administrator has to renew it.`;
    return new MailError('CERT_EXPIRED', message, { ...details, fingerprint: facts.fingerprint });
  }
  if (HOSTNAME_MISMATCH_CODES.has(code)) {
    const names = facts.subjectAltName
      ? ` It was issued for ${facts.subjectAltName.replace(/DNS:|IP Address:/g, '')}.`
      : '';
    return new MailError(
      'CERT_HOSTNAME_MISMATCH',
      `The certificate presented by ${target.host} belongs to a different server name.${names} Check the server name in the account settings.`,
      { ...details, fingerprint: facts.fingerprint },
    );
  }
  if (code === 'ECONNREFUSED') {
    return new MailError(
      'CONNECTION_REFUSED',
      `${where} refused the connection. Check the server name and port, and that the mail server is running.`,
      details,
    );
  }
  if (HOST_NOT_FOUND_CODES.has(code)) {
    return new MailError(
      'HOST_NOT_FOUND',
      `The server name ${target.host} could not be found. Check its spelling and this computer's internet connection.`,
      details,
    );
  }
  if (TIMEOUT_CODES.has(code)) {
    return new MailError('TIMEOUT', `${where} did not answer in time.`, details);
  }
  if (UNREACHABLE_CODES.has(code)) {
    return new MailError(
      'CONNECTION_REFUSED',
      `${where} cannot be reached from this computer (${code}). Check the network connection.`,
      details,
    );
  }
  if (CONNECTION_LOST_CODES.has(code)) {
    return new MailError('CONNECTION_LOST', `The connection to ${where} was lost. Try again.`, details);
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /ssl|tls/i.test(reason)) {
    // Typically a TLS client talking to a plaintext port, or a server offering only outdated TLS.
    return new MailError(
      'CONNECTION_LOST',
      `A secure connection to ${where} could not be set up (${reason}). Check that the security setting ` +
        'matches the port (implicit TLS: 993, 995, 465; STARTTLS: 143, 110, 587).',
      details,
    );
  }
  return new MailError('CONNECTION_LOST', `The connection to ${where} failed: ${reason}`, details);
}

/** The error for a connection or command that got no answer within `timeoutMs`. */
export function timeoutError(target: ConnectionTarget, timeoutMs: number, waitingFor: string): MailError {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return new MailError(
    'TIMEOUT',
    `${target.host}:${target.port} did not answer within ${seconds} s (waiting for ${waitingFor}).`,
    targetDetails(target),
  );
}
