/**
 * Login mechanisms for POP3: SASL (RFC 5034) and APOP (RFC 1939 §7). A SASL mechanism is the hook
 * for XOAUTH2 and anything else: the client runs the exchange, the mechanism supplies the answers.
 */
import { createHash } from 'node:crypto';

/**
 * A SASL mechanism (RFC 5034), the hook for AUTH XOAUTH2 and others. Responses are base64 text as
 * POP3 carries it; an empty initial response is sent as "=".
 */
export interface SaslMechanism {
  /** As registered with IANA, e.g. "PLAIN", "XOAUTH2". */
  readonly name: string;
  /** Base64 initial response, or undefined to wait for the server's first challenge. */
  initialResponse(): string | undefined | Promise<string | undefined>;
  /** Base64 answer to a base64 challenge from a "+ " line. */
  respond(challenge: string): string | Promise<string>;
}

/** SASL PLAIN (RFC 4616): authorization identity empty, then user name and password, UTF-8. */
export function plainMechanism(username: string, password: string): SaslMechanism {
  const response = Buffer.from(`\0${username}\0${password}`, 'utf8').toString('base64');
  return {
    name: 'PLAIN',
    initialResponse: () => response,
    respond: () => response,
  };
}

/** RFC 1939 §7: MD5 of the greeting's timestamp followed by the password, in lower-case hex. */
export function apopDigest(timestamp: string, password: string): string {
  return createHash('md5')
    .update(timestamp + password, 'utf8')
    .digest('hex');
}

/** The APOP timestamp of a greeting ("<process-id.clock@hostname>"), if it has one. */
export function greetingTimestamp(greeting: string): string | undefined {
  return /<[^<>\s]+@[^<>\s]+>/.exec(greeting)?.[0];
}

/**
 * SASL XOAUTH2 (Google's and Microsoft's bearer-token mechanism, developers.google.com/gmail/imap/
 * xoauth2-protocol): "user=…^Aauth=Bearer …^A^A". A refusal comes as a challenge holding a JSON error;
 * the client answers it with an empty response and the server then fails the login.
 */
export function xoauth2Mechanism(username: string, accessToken: string): SaslMechanism {
  const response = Buffer.from(`user=${username}\x01auth=Bearer ${accessToken}\x01\x01`, 'utf8').toString('base64');
  return {
    name: 'XOAUTH2',
    initialResponse: () => response,
    respond: () => '',
  };
}

/** RFC 5801 §5.1 saslname: "," and "=" are escaped in the GS2 authorization identity. */
function gs2Name(name: string): string {
  return name.replaceAll('=', '=3D').replaceAll(',', '=2C');
}

/**
 * SASL OAUTHBEARER (RFC 7628 §3.1): a GS2 header naming the user, then host, port and the bearer token,
 * each closed by ^A. A refusal comes as a challenge holding a JSON error (§3.2.2); the client must
 * answer it with a single ^A (§3.2.3), after which the server fails the login.
 */
export function oauthBearerMechanism(
  username: string,
  accessToken: string,
  server: { host: string; port: number },
): SaslMechanism {
  const message = `n,a=${gs2Name(username)},\x01host=${server.host}\x01port=${server.port}\x01auth=Bearer ${accessToken}\x01\x01`;
  const response = Buffer.from(message, 'utf8').toString('base64');
  return {
    name: 'OAUTHBEARER',
    initialResponse: () => response,
    respond: () => Buffer.from('\x01').toString('base64'),
  };
}
