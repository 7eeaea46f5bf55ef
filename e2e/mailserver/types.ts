/**
 * What the test mail servers (a private Dovecot and Postfix on 127.0.0.1 high ports, started
 * once per test run by global-setup.ts) tell the tests. Tests get it with `inject('mailServer')`.
 */
export interface TlsEndpointSet {
  /** Address to connect to (a loopback address of its own, so Dovecot can present another certificate). */
  host: string;
  imaps: number;
  pop3s: number;
  submissions: number;
  /** SHA-256 of the certificate these listeners present, 64 lower-case hex digits. */
  fingerprint: string;
}

export interface MailServerInfo {
  host: string;
  ports: {
    /** IMAP with STARTTLS (plaintext login refused before STARTTLS). */
    imap: number;
    imaps: number;
    /** POP3 with STLS. */
    pop3: number;
    pop3s: number;
    /** SMTP submission, STARTTLS required. */
    submission: number;
    /** SMTP submission over implicit TLS. */
    submissions: number;
  };
  /** PEM file of the test CA that signed the main certificate (valid for localhost and 127.0.0.1). */
  caPath: string;
  /** SHA-256 of the main certificate. */
  fingerprint: string;
  /** Listeners that present bad certificates: self-signed, expired, and issued for another host name. */
  badTls: { selfSigned: TlsEndpointSet; expired: TlsEndpointSet; wrongHost: TlsEndpointSet };
  /** Listeners that offer no STARTTLS / STLS at all (plain ports). */
  noTls: { host: string; imap: number; pop3: number; submission: number };
  /** Dovecot's config file, for `doveadm -c`. */
  dovecotConfig: string;
  /** Root folder of the servers' state (users file, mail homes, logs). */
  dataDir: string;
}

export interface TestUser {
  username: string;
  password: string;
  /** username@localhost: deliverable through the test Postfix. */
  email: string;
  /** The user's Maildir on the server, e.g. to compare bytes with what the client stored. */
  maildir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    mailServer: MailServerInfo;
  }
}
