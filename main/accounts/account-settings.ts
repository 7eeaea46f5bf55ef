/**
 * Checks account settings where they arrive (from the renderer, the CLI, a hand-edited
 * accounts.json) and returns a clean copy: every field is checked, unknown fields are refused (a
 * misspelt field would otherwise be silently ignored), and the error names the field in a sentence.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { MailError } from '../../shared/errors';
import type {
  AccountAuth,
  AccountSettings,
  LeaveOnServer,
  ProtocolMode,
  Security,
  ServerEndpoint,
} from '../../shared/model';

const SECURITY_VALUES: readonly Security[] = ['tls', 'starttls', 'none'];
const MODES: readonly ProtocolMode[] = ['imap', 'pop3'];
const LEAVE_ON_SERVER_KINDS = ['off', 'forever', 'days', 'until-deleted'] as const;

const MAXIMUM_PORT = 65_535;
const MAXIMUM_NAME_LENGTH = 200;
/** RFC 5321 §4.5.3.1.3 (path) and §4.5.3.1.1 (local part). */
const MAXIMUM_ADDRESS_LENGTH = 254;
const MAXIMUM_LOCAL_PART_LENGTH = 64;
/** RFC 1035 §2.3.4. */
const MAXIMUM_HOST_LENGTH = 253;
const MAXIMUM_LABEL_LENGTH = 63;
/** Ten years: longer is "forever", which has its own setting. */
const MAXIMUM_LEAVE_DAYS = 3650;
/** Once a day at least, if automatic checking is on at all (0 = only when asked). */
const MAXIMUM_CHECK_INTERVAL_MINUTES = 1440;
const HEX_DIGITS_PER_SHA256 = 64;
const HEX_DIGITS_PER_SHA1 = 40;

function invalid(message: string): MailError {
  return new MailError('INVALID_INPUT', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  return typeof value === 'object' ? (Array.isArray(value) ? 'a list' : 'an object') : String(value);
}

/** Control characters (CR, LF, NUL…) would break protocol commands and file formats. */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function requireKeys(record: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw invalid(`${where} has an unknown field "${key}". Allowed fields: ${allowed.join(', ')}.`);
    }
  }
}

function text(value: unknown, field: string, options: { maximum?: number; allowEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw invalid(`The ${field} must be text, not ${describe(value)}.`);
  const trimmed = value.trim();
  if (!options.allowEmpty && trimmed === '') throw invalid(`The ${field} must not be empty.`);
  if (CONTROL_CHARACTERS.test(trimmed))
    throw invalid(`The ${field} must not contain line breaks or control characters.`);
  const maximum = options.maximum ?? MAXIMUM_NAME_LENGTH;
  if (trimmed.length > maximum) throw invalid(`The ${field} is too long (at most ${maximum} characters).`);
  return trimmed;
}

function integer(value: unknown, field: string, minimum: number, maximum: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum) {
    throw invalid(`The ${field} must be a whole number from ${minimum} to ${maximum}, not ${describe(value)}.`);
  }
  return value;
}

/**
 * A host name (RFC 1123 §2.1, international names converted to their ASCII form per RFC 5891) or an
 * IPv4/IPv6 address (brackets around IPv6 are accepted and removed).
 */
export function validateHost(value: unknown, field: string): string {
  const raw = text(value, field, { maximum: MAXIMUM_HOST_LENGTH + 2 });
  const unbracketed = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
  if (isIP(unbracketed) !== 0) return unbracketed.toLowerCase();
  if (/[\s/:@?#]/.test(raw)) {
    throw invalid(`The ${field} ${describe(raw)} is not a server name: give only the name, e.g. "mail.example.org".`);
  }
  const ascii = domainToASCII(raw.replace(/\.$/, '')).toLowerCase();
  const labels = ascii.split('.');
  const valid =
    ascii !== '' &&
    ascii.length <= MAXIMUM_HOST_LENGTH &&
    labels.every(
      (label) =>
        label.length > 0 && label.length <= MAXIMUM_LABEL_LENGTH && /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/.test(label),
    );
  if (!valid) throw invalid(`The ${field} ${describe(raw)} is not a valid server name.`);
  return ascii;
}

/** A plain address (RFC 5321 §4.1.2 Mailbox, without quoted local parts): what servers actually accept. */
export function validateEmail(value: unknown, field = 'email address'): string {
  const address = text(value, field, { maximum: MAXIMUM_ADDRESS_LENGTH });
  const at = address.lastIndexOf('@');
  const localPart = address.slice(0, at);
  if (
    at <= 0 ||
    at === address.length - 1 ||
    /[\s<>()[\]\\,;:"]/.test(localPart) ||
    localPart.length > MAXIMUM_LOCAL_PART_LENGTH
  ) {
    throw invalid(`The ${field} ${describe(address)} is not an email address like "name@example.org".`);
  }
  const domain = validateHost(address.slice(at + 1), `domain of the ${field}`);
  return `${localPart}@${domain}`;
}

/**
 * Reads a SHA-256 certificate fingerprint as people copy it: `openssl x509 -noout -fingerprint -sha256`
 * output ("SHA256 Fingerprint=AB:CD:…" or "sha256 Fingerprint=…"), colon- or space-separated pairs,
 * or 64 plain hex digits, any case. Returns 64 lower-case hex digits.
 */
export function parseFingerprint(value: unknown, field = 'certificate fingerprint'): string {
  if (typeof value !== 'string') throw invalid(`The ${field} must be text, not ${describe(value)}.`);
  let rest = value.trim();
  // "SHA256 Fingerprint=", "sha256:", "SHA-256 Fingerprint:" and the like.
  const label = /^(?:sha-?(\d+)\s*)?(?:fingerprint\s*)?[=:]\s*/i.exec(rest);
  if (label) {
    const bits = label[1];
    if (bits !== undefined && bits !== '256') {
      throw invalid(
        `The ${field} is a SHA-${bits} fingerprint; a SHA-256 fingerprint is needed ` +
          '(openssl x509 -noout -fingerprint -sha256).',
      );
    }
    rest = rest.slice(label[0].length);
  }
  const hex = rest.replace(/[:\s]/g, '');
  if (!/^[0-9a-f]*$/i.test(hex)) {
    throw invalid(`The ${field} may contain only hexadecimal digits (0-9, A-F), optionally separated by colons.`);
  }
  if (hex.length === HEX_DIGITS_PER_SHA1) {
    throw invalid(
      `The ${field} looks like a SHA-1 fingerprint (40 digits); a SHA-256 fingerprint (64 digits) is needed ` +
        '(openssl x509 -noout -fingerprint -sha256).',
    );
  }
  if (hex.length !== HEX_DIGITS_PER_SHA256) {
    throw invalid(`The ${field} must have 64 hexadecimal digits (SHA-256), but has ${hex.length}.`);
  }
  return hex.toLowerCase();
}

const ENDPOINT_KEYS = ['host', 'port', 'security', 'allowPlaintext', 'pinnedFingerprint'] as const;

export function validateEndpoint(value: unknown, server: string): ServerEndpoint {
  if (!isRecord(value)) throw invalid(`The ${server} server settings must be an object, not ${describe(value)}.`);
  requireKeys(value, ENDPOINT_KEYS, `The ${server} server settings`);
  const host = validateHost(value.host, `${server} server name`);
  const port = integer(value.port, `${server} port`, 1, MAXIMUM_PORT);
  if (!SECURITY_VALUES.includes(value.security as Security)) {
    throw invalid(
      `The ${server} security must be one of ${SECURITY_VALUES.join(', ')}, not ${describe(value.security)}.`,
    );
  }
  const security = value.security as Security;
  if (value.allowPlaintext !== undefined && typeof value.allowPlaintext !== 'boolean') {
    throw invalid(
      `The ${server} "allow plaintext" setting must be true or false, not ${describe(value.allowPlaintext)}.`,
    );
  }
  const pinned =
    value.pinnedFingerprint === undefined || value.pinnedFingerprint === null || value.pinnedFingerprint === ''
      ? null
      : parseFingerprint(value.pinnedFingerprint, `${server} certificate fingerprint`);
  return {
    host,
    port,
    security,
    // Meaningful only without TLS (model.ts); elsewhere it must not linger as a silent "yes".
    allowPlaintext: security === 'none' && value.allowPlaintext === true,
    // A pin only applies to a TLS handshake.
    pinnedFingerprint: security === 'none' ? null : pinned,
  };
}

function validateOptionalEndpoint(value: unknown, server: string): ServerEndpoint | null {
  return value === null || value === undefined ? null : validateEndpoint(value, server);
}

export function validateLeaveOnServer(value: unknown): LeaveOnServer {
  const field = 'leave-on-server policy';
  if (!isRecord(value))
    throw invalid(`The ${field} must be an object such as {"kind": "off"}, not ${describe(value)}.`);
  const kind = value.kind;
  if (!LEAVE_ON_SERVER_KINDS.includes(kind as (typeof LEAVE_ON_SERVER_KINDS)[number])) {
    throw invalid(`The ${field} kind must be one of ${LEAVE_ON_SERVER_KINDS.join(', ')}, not ${describe(kind)}.`);
  }
  if (kind === 'days') {
    requireKeys(value, ['kind', 'days'], `The ${field}`);
    return { kind, days: integer(value.days, `number of days in the ${field}`, 1, MAXIMUM_LEAVE_DAYS) };
  }
  requireKeys(value, ['kind'], `The ${field} "${String(kind)}"`);
  return { kind: kind as 'off' | 'forever' | 'until-deleted' };
}

function validateFolders(value: unknown): string[] {
  if (!Array.isArray(value))
    throw invalid(`The offline folders must be a list of folder paths, not ${describe(value)}.`);
  const folders = value.map((folder, index) => text(folder, `offline folder #${index + 1}`, { maximum: 1000 }));
  return [...new Set(folders)];
}

const SETTINGS_KEYS = [
  'name',
  'email',
  'mode',
  'username',
  'imap',
  'pop3',
  'smtp',
  'leaveOnServer',
  'offlineFolders',
  'checkIntervalMinutes',
  'pop3Options',
  'auth',
] as const;

/** Largest "skip messages larger than" limit: 2 GiB in KB. */
const MAXIMUM_MESSAGE_KB = 2 * 1024 * 1024;

function validatePop3Options(value: unknown): AccountSettings['pop3Options'] {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalid(`The POP3 options must be an object, not ${describe(value)}.`);
  requireKeys(value, ['headersOnly', 'maxMessageKb'], 'The POP3 options');
  if (value.headersOnly !== undefined && typeof value.headersOnly !== 'boolean') {
    throw invalid('"Download headers only" must be true or false.');
  }
  const maxMessageKb =
    value.maxMessageKb === undefined || value.maxMessageKb === null
      ? null
      : integer(value.maxMessageKb, 'size limit for downloads in KB', 1, MAXIMUM_MESSAGE_KB);
  return { headersOnly: value.headersOnly === true, maxMessageKb };
}

/** A provider id as main/oauth/providers.ts and the client configuration name them, e.g. "google". */
const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Absent or {kind: 'password'}: a password; {kind: 'oauth2', provider}: tokens from that provider. */
function validateAuth(value: unknown): AccountAuth | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw invalid(`The sign-in method must be an object, not ${describe(value)}.`);
  if (value.kind === 'password') {
    requireKeys(value, ['kind'], 'The sign-in method "password"');
    return { kind: 'password' };
  }
  if (value.kind === 'oauth2') {
    requireKeys(value, ['kind', 'provider'], 'The sign-in method "oauth2"');
    if (typeof value.provider !== 'string' || !PROVIDER_ID.test(value.provider)) {
      throw invalid(`The sign-in provider must be a provider id such as "google", not ${describe(value.provider)}.`);
    }
    return { kind: 'oauth2', provider: value.provider };
  }
  throw invalid(`The sign-in method must be "password" or "oauth2", not ${describe(value.kind)}.`);
}

/** Validates everything in `input` and returns clean AccountSettings, or throws MailError INVALID_INPUT. */
export function validateAccountSettings(input: unknown): AccountSettings {
  if (!isRecord(input)) throw invalid(`Account settings must be an object, not ${describe(input)}.`);
  requireKeys(input, SETTINGS_KEYS, 'The account settings');
  const name = text(input.name, 'account name');
  const email = validateEmail(input.email);
  if (!MODES.includes(input.mode as ProtocolMode)) {
    throw invalid(`The account mode must be "imap" or "pop3", not ${describe(input.mode)}.`);
  }
  const mode = input.mode as ProtocolMode;
  // User names may be case-sensitive and contain spaces on some servers: only trim and check for breaks.
  const username = text(input.username, 'user name', { maximum: MAXIMUM_ADDRESS_LENGTH });
  const imap = validateOptionalEndpoint(input.imap, 'IMAP');
  const pop3 = validateOptionalEndpoint(input.pop3, 'POP3');
  const smtp = validateOptionalEndpoint(input.smtp, 'SMTP');
  if (mode === 'imap' && imap === null) throw invalid('The account is in IMAP mode but has no IMAP server settings.');
  if (mode === 'pop3' && pop3 === null) throw invalid('The account is in POP3 mode but has no POP3 server settings.');
  const leaveOnServer = validateLeaveOnServer(input.leaveOnServer ?? { kind: 'off' });
  const offlineFolders = validateFolders(input.offlineFolders ?? []);
  const checkIntervalMinutes = integer(
    input.checkIntervalMinutes,
    'check interval in minutes (0 = only when asked)',
    0,
    MAXIMUM_CHECK_INTERVAL_MINUTES,
  );
  const pop3Options = validatePop3Options(input.pop3Options);
  const auth = validateAuth(input.auth);
  return {
    name,
    email,
    mode,
    username,
    imap,
    pop3,
    smtp,
    leaveOnServer,
    offlineFolders,
    checkIntervalMinutes,
    ...(pop3Options ? { pop3Options } : {}),
    ...(auth ? { auth } : {}),
  };
}
