/**
 * Every error code in words a person can act on: what happened, and what to do about it. The
 * service's own message is kept as the detail, since it often names the server or the folder.
 */
import { isErrorCode, toErrorPayload, type ErrorCode, type ErrorPayload } from '../../../shared/errors';

export interface ErrorText {
  title: string;
  advice: string | null;
  /** The service's own sentence, when it adds something to the title. */
  detail: string | null;
}

/** "pop.example.org, port 995", or "the server" when the service did not say which. */
function where(payload: ErrorPayload): string {
  const { host, port } = payload.details ?? {};
  if (host === undefined) return 'the server';
  return port === undefined ? host : `${host}, port ${port}`;
}

/** "The server at pop.example.org, port 995", or "The server". */
function theServer(payload: ErrorPayload): string {
  return payload.details?.host === undefined ? 'The server' : `The server at ${where(payload)}`;
}

const TEXTS: Record<ErrorCode, (payload: ErrorPayload) => Omit<ErrorText, 'detail'>> = {
  AUTH_FAILED: () => ({
    title: 'The server did not accept the user name or password.',
    advice: 'Check both and try again. Some providers need an app password instead of your usual one.',
  }),
  CERT_UNTRUSTED: (payload) => ({
    title: `The certificate of ${where(payload)} is not signed by an authority this computer trusts.`,
    advice:
      'Someone may be listening in, or the server uses a certificate of its own. Trust it only if its fingerprint matches the one your provider gives you.',
  }),
  CERT_HOSTNAME_MISMATCH: (payload) => ({
    title: `The certificate presented by ${where(payload)} is made out to a different server name.`,
    advice: 'Check the server name. Your provider may list another name to use, such as imap.provider.example.',
  }),
  CERT_EXPIRED: (payload) => ({
    title: `The certificate of ${where(payload)} has expired.`,
    advice: 'Check that this computer’s date and time are right; otherwise the provider must renew its certificate.',
  }),
  STARTTLS_UNAVAILABLE: (payload) => ({
    title: `${theServer(payload)} did not offer to encrypt the connection (STARTTLS).`,
    advice: 'Choose “TLS” with the secure port (993 for IMAP, 995 for POP3, 465 for SMTP), or check the port number.',
  }),
  PLAINTEXT_REFUSED: () => ({
    title: 'Whereabouts will not send your password unencrypted on this connection.',
    advice:
      'Choose TLS or STARTTLS. Only if your provider offers nothing else, allow an unencrypted login for this server.',
  }),
  CONNECTION_REFUSED: (payload) => ({
    title: `The connection to ${where(payload)} was refused: nothing is accepting mail connections there.`,
    advice: 'Check the server name and the port number.',
  }),
  HOST_NOT_FOUND: (payload) => ({
    title: `No server called ${payload.details?.host ?? 'that'} could be found.`,
    advice: 'Check the spelling of the server name, and that this computer is online.',
  }),
  TIMEOUT: (payload) => ({
    title: `${theServer(payload)} did not answer in time.`,
    advice: 'The server or the network may be slow or down. Try again in a moment, and check the port number.',
  }),
  CONNECTION_LOST: () => ({
    title: 'The connection was lost.',
    advice: 'Whereabouts will try again. Nothing that was stored here is lost.',
  }),
  SERVER_ERROR: (payload) => ({
    title: payload.details?.serverText
      ? `The server answered with an error: “${payload.details.serverText}”`
      : 'The server answered with an error.',
    advice: 'Try again later. If it keeps happening, your provider may know why.',
  }),
  MAILBOX_IN_USE: () => ({
    title: 'Another program is using this mailbox right now.',
    advice: 'POP3 lets only one program in at a time. Close other mail programs on this account, then try again.',
  }),
  QUOTA_EXCEEDED: () => ({
    title: 'The mailbox on the server is full.',
    advice: 'Delete or download some mail to free space on the server.',
  }),
  SIZE_MISMATCH: () => ({
    title: 'A message arrived with a different size than the server announced, so it was not stored.',
    advice: 'It will be fetched again on the next check.',
  }),
  DISK_FULL: () => ({
    title: 'This computer’s disk is full.',
    advice: 'Free some space; nothing already stored is lost.',
  }),
  NOT_FOUND: () => ({ title: 'That item no longer exists.', advice: 'It may have been moved or deleted elsewhere.' }),
  INVALID_INPUT: (payload) => ({ title: payload.message, advice: null }),
  NOT_AVAILABLE_IN_MODE: (payload) => ({ title: payload.message, advice: null }),
  CANCELLED: (payload) => ({ title: payload.message, advice: null }),
  UNAUTHORIZED: () => ({
    title: 'This window is not allowed to talk to the Whereabouts service.',
    advice: 'Open Whereabouts again from its own window or the address it printed.',
  }),
  UNKNOWN_METHOD: () => ({
    title: 'This version of the Whereabouts service cannot do that yet.',
    advice: null,
  }),
  INTERNAL: (payload) => ({ title: payload.message, advice: null }),
};

/**
 * Codes whose title already says everything the service's sentence would (it names the same host
 * and port); for the others the service's sentence is kept, since it names the folder or the field.
 */
const SELF_EXPLAINED: ReadonlySet<ErrorCode> = new Set([
  'AUTH_FAILED',
  'CERT_UNTRUSTED',
  'CERT_HOSTNAME_MISMATCH',
  'CERT_EXPIRED',
  'STARTTLS_UNAVAILABLE',
  'CONNECTION_REFUSED',
  'HOST_NOT_FOUND',
  'TIMEOUT',
  'SERVER_ERROR',
]);

export function describeError(error: unknown): ErrorText {
  const payload = toErrorPayload(error);
  const code = isErrorCode(payload.code) ? payload.code : 'INTERNAL';
  const described = TEXTS[code](payload);
  const title = described.title;
  const serverText = payload.details?.serverText;
  let detail: string | null = null;
  if (code === 'AUTH_FAILED' && serverText) detail = `The server said: “${serverText}”`;
  else if (!SELF_EXPLAINED.has(code) && title !== payload.message && payload.message !== '') detail = payload.message;
  return { title, advice: described.advice, detail };
}

/** One sentence for a toast. */
export function errorSentence(error: unknown): string {
  const text = describeError(error);
  return text.advice === null ? text.title : `${text.title} ${text.advice}`;
}
