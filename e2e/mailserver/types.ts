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
  /** IMAP with STARTTLS on this address: the same bad certificate after the upgrade. */
  imap: number;
  /** POP3 with STLS on this address. */
  pop3: number;
  /** SMTP submission with STARTTLS on this address. */
  submission: number;
  /** SHA-256 of the certificate these listeners present, 64 lower-case hex digits. */
  fingerprint: string;
}

export interface MailServerInfo {
  /**
   * 127.0.0.6, not 127.0.0.1: Dovecot treats a client whose address equals the server's as secure and
   * would allow plaintext login before STARTTLS; from 127.0.0.1 to 127.0.0.6 it behaves as for a remote client.
   */
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
  /**
   * PEM file of the test CA that signed the main certificate (valid for `host`, localhost and 127.0.0.1).
   * Test workers trust it through NODE_EXTRA_CA_CERTS, like a system CA.
   */
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
  /** Dovecot's users: one passwd-file per user, named after the user (test-users.ts writes them). */
  usersDir: string;
  /** Folder holding one home (with its Maildir) per test user. */
  mailHome: string;
  /** The system user owning every mailbox file (files put in place must belong to it). */
  mailUser: { name: string; uid: number; gid: number };
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
