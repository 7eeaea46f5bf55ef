/**
 * Opens an ImapSession for an account. Transport security follows DESIGN.md: implicit TLS
 * (RFC 8314) or STARTTLS that must succeed (RFC 3501 section 6.2.1 — never opportunistic: a
 * server without STARTTLS is refused before anything private is sent), certificates verified,
 * TLS 1.2 or newer, a self-signed certificate only when its SHA-256 is pinned on the account,
 * plaintext only when the account explicitly allows it.
 */
import { MailError } from '../../../shared/errors';
import { normalizeFingerprint, tlsConnectionOptions, type TlsTrustOptions } from '../tls-errors';
import { GuardedImapFlow } from './guarded-imapflow';
import type { ImapConnectOptions, ImapSession } from './imap-mailbox';
import { ImapflowSession } from './imapflow-session';

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const DEFAULT_GREETING_TIMEOUT_MS = 16_000;
/** Silence allowed while a command waits for its answer (imapflow's inactivity watchdog). */
const DEFAULT_SOCKET_TIMEOUT_MS = 5 * 60_000;
/** RFC 2177 section 3: re-issue IDLE at least every 29 minutes, before servers drop idle clients. */
const IDLE_MAX_MS = 25 * 60_000;
/**
 * Largest literal accepted from the server. Messages arrive in RAW_CHUNK_BYTES ranges and whole
 * only up to SMALL_MESSAGE_MAX_BYTES, so nothing we request comes near this; it stops a broken or
 * hostile server from making us allocate gigabytes (imapflow's default is 1 GiB).
 */
export const MAX_LITERAL_BYTES = 16 * 1024 * 1024;
/** Longest response line without literals (a SEARCH answer for a very large folder fits easily). */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** One whole response, all its lines and literals; above MAX_LITERAL_BYTES by design (imapflow). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

function positiveOr(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Connects, secures the connection, logs in. Throws a MailError; on failure nothing stays open. */
export async function connectImap(options: ImapConnectOptions): Promise<ImapSession> {
  const { endpoint } = options;
  const target = { host: endpoint.host, port: endpoint.port };
  if (endpoint.security === 'none' && endpoint.allowPlaintext !== true) {
    throw new MailError(
      'PLAINTEXT_REFUSED',
      `This account is set to connect to ${endpoint.host} without encryption, which would send your password readable to anyone on the network. Choose TLS or STARTTLS, or explicitly allow unencrypted connections for this account.`,
      target,
    );
  }
  if (!options.password && !options.accessToken) {
    throw new MailError('INVALID_INPUT', 'No password is set for this account.');
  }
  if (endpoint.pinnedFingerprint && !normalizeFingerprint(endpoint.pinnedFingerprint)) {
    throw new MailError(
      'INVALID_INPUT',
      'The trusted certificate fingerprint is not a SHA-256 fingerprint (64 hex digits).',
    );
  }

  const trust: TlsTrustOptions = { ...target, pinnedFingerprint: endpoint.pinnedFingerprint ?? null };
  // imapflow adds host, port and servername itself (and passes host for STARTTLS, so IP
  // addresses are verified against the certificate's IP entries).
  const { host: _host, port: _port, servername, ...tls } = tlsConnectionOptions(trust);
  const timeouts = options.timeouts ?? {};
  const client = new GuardedImapFlow(
    {
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.security === 'tls',
      doSTARTTLS: endpoint.security === 'starttls',
      ...(servername ? { servername } : {}),
      tls,
      auth: options.accessToken
        ? { user: options.username, accessToken: options.accessToken }
        : { user: options.username, pass: options.password },
      // Never log: imapflow's debug log contains commands, and ours contain credentials.
      logger: false,
      // QRESYNC (RFC 7162) for exact change tracking; imapflow ENABLEs it with CONDSTORE when offered.
      qresync: true,
      // The sync engine decides when to IDLE (idle()); automatic IDLE would race our operations.
      disableAutoIdle: true,
      maxIdleTime: IDLE_MAX_MS,
      // COMPRESS=DEFLATE (RFC 4978) would add a stream stage between socket and parser that
      // nothing here needs; keeping bytes as sent keeps byte-level tests meaningful.
      disableCompression: true,
      // RFC 2971 ID: our name only (imapflow would add its own version and vendor).
      clientInfo: { name: 'Whereabouts', version: false, vendor: false, 'support-url': false },
      connectionTimeout: positiveOr(timeouts.connectMs, DEFAULT_CONNECT_TIMEOUT_MS),
      greetingTimeout: positiveOr(timeouts.greetingMs, DEFAULT_GREETING_TIMEOUT_MS),
      socketTimeout: positiveOr(timeouts.socketMs, DEFAULT_SOCKET_TIMEOUT_MS),
      maxLiteralSize: MAX_LITERAL_BYTES,
      maxLineLength: MAX_LINE_BYTES,
      maxResponseSize: MAX_RESPONSE_BYTES,
    },
    { trust, plaintextAllowed: endpoint.security === 'none', startTlsRequired: endpoint.security === 'starttls' },
  );
  const session = new ImapflowSession(client, target, options.ignoreCapabilities ?? []);
  await session.open();
  return session;
}
