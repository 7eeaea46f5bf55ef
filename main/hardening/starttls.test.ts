/**
 * Attacks on the switch to encryption (STARTTLS), for IMAP, POP3 and SMTP: an attacker on the path
 * cannot read TLS, so they try to keep the session in the clear (a PREAUTH greeting) or to slip
 * forged answers in before the handshake (CVE-2011-0411-style injection: bytes right behind the
 * server's "go ahead", which a careless client reads as if they had come through TLS). Each case
 * must fail closed or ignore the forged bytes — and the password must never cross the wire in the
 * clear, checked on the bytes the scripted server received before TLS.
 *
 * Certificates (valid / self-signed / expired / wrong host, implicit TLS and STARTTLS) and a
 * stripped STARTTLS capability are covered by the adapters' own tests
 * (main/protocols/{imap,pop3,smtp}/*.test.ts); they are not repeated here.
 */
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { MailError } from '../../shared/errors';
import { connectImap } from '../protocols/imap/connect-imap';
import { openPop3Mailbox, type Pop3Mailbox } from '../protocols/pop3/pop3-mailbox';
import { sendMessage } from '../protocols/smtp/smtp-client';
import type { ScriptedTlsIdentity } from '../protocols/testing/scripted-server';
import { findSecret } from './secret-forms';
import {
  loadServerIdentity,
  startImapStartTlsServer,
  startPop3StartTlsServer,
  startSmtpStartTlsServer,
  type StartTlsServer,
  type UpgradeBehaviour,
} from './starttls-servers';

const info = inject('mailServer');
const username = 'victim@example.org';
const password = 'hardening-secret-6f1c0d';
let identity: ScriptedTlsIdentity;
const servers: StartTlsServer[] = [];

beforeAll(async () => {
  identity = await loadServerIdentity(info);
});

afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

function track(server: StartTlsServer): StartTlsServer {
  servers.push(server);
  return server;
}

/** The bytes before TLS carry no login command and no encoding of the password. */
function expectNothingSecretInTheClear(server: StartTlsServer, loginCommands: RegExp): void {
  const clear = server.plaintextBytes();
  expect(clear.toString('latin1')).not.toMatch(loginCommands);
  expect(findSecret(clear, password, username)).toEqual([]);
}

async function outcomeOf<T>(attempt: () => Promise<T>): Promise<T | MailError> {
  try {
    return await attempt();
  } catch (error) {
    if (error instanceof MailError) return error;
    throw error;
  }
}

function expectMailError(outcome: unknown): MailError {
  expect(outcome).toBeInstanceOf(MailError);
  return outcome as MailError;
}

const IMAP_LOGIN = /\b(LOGIN|AUTHENTICATE)\b/i;
const POP3_LOGIN = /^(USER|PASS|AUTH|APOP)\b/im;
const SMTP_LOGIN = /^AUTH\b/im;

describe('IMAP STARTTLS (imapflow through connect-imap.ts)', () => {
  async function connect(server: StartTlsServer): Promise<MailError | 'connected'> {
    return await outcomeOf(async () => {
      const session = await connectImap({
        endpoint: { host: server.host, port: server.port, security: 'starttls' },
        username,
        password,
        timeouts: { greetingMs: 5_000, socketMs: 10_000 },
      });
      await session.close();
      return 'connected' as const;
    });
  }

  it('control: a well-behaved server gets the credentials inside TLS only', async () => {
    const server = track(await startImapStartTlsServer(identity, { kind: 'clean' }));
    const error = expectMailError(await connect(server));
    // The scripted server refuses every login: reaching it proves the upgrade and login happened.
    expect(error.code).toBe('AUTH_FAILED');
    expect(server.handshakes).toBe(1);
    expect(server.encryptedLines.some((line) => IMAP_LOGIN.test(line))).toBe(true);
    // The detector finds the password where it did travel (inside TLS), so its silence below means something.
    expect(findSecret(Buffer.from(server.encryptedLines.join('\r\n')), password, username)).not.toEqual([]);
    expectNothingSecretInTheClear(server, IMAP_LOGIN);
  });

  it('a PREAUTH greeting on a STARTTLS-required connection is refused before anything is sent (RFC 9051 section 7.1.4)', async () => {
    for (const greeting of [
      // STARTTLS still advertised: imapflow alone would issue STARTTLS in the authenticated state and carry on.
      '* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome, you are logged in\r\n',
      '* PREAUTH welcome, you are logged in\r\n',
    ]) {
      const server = track(await startImapStartTlsServer(identity, { kind: 'clean' }, { greeting }));
      const error = expectMailError(await connect(server));
      expect(error.code).toBe('STARTTLS_UNAVAILABLE');
      expect(error.message).toMatch(/PREAUTH/);
      expect(server.plaintextBytes().length).toBe(0);
      expect(server.handshakes).toBe(0);
    }
  });

  it('bytes injected behind "OK Begin TLS" in the same segment: refused before the handshake', async () => {
    const server = track(
      await startImapStartTlsServer(identity, {
        kind: 'inject-same-segment',
        bytes: '* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n4 OK injected\r\n',
      }),
    );
    const error = expectMailError(await connect(server));
    expect(error.code).toBe('CONNECTION_LOST');
    expect(error.message).toMatch(/unexpected data while switching to encryption/);
    expect(server.handshakes).toBe(0);
    expect(server.encryptedLines).toEqual([]);
    expectNothingSecretInTheClear(server, IMAP_LOGIN);
    expect(server.receivedLines.at(-1)).toMatch(/^\S+ STARTTLS$/);
  });

  it('bytes injected in the next segment: the handshake fails, nothing follows', async () => {
    const server = track(
      await startImapStartTlsServer(identity, {
        kind: 'inject-next-segment',
        bytes: '* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n',
      }),
    );
    const error = expectMailError(await connect(server));
    expect(['CONNECTION_LOST', 'SERVER_ERROR']).toContain(error.code);
    expect(server.encryptedLines).toEqual([]);
    expectNothingSecretInTheClear(server, IMAP_LOGIN);
  });
});

describe('POP3 STLS (pop3-client.ts)', () => {
  const messageBytes = 4711;
  /**
   * A forged CAPA answer offering SASL PLAIN, then two "+OK": if the client read these as answers
   * to its first commands over TLS, it would log in with AUTH PLAIN (the real server offers USER
   * only) and every later answer would be off by one.
   */
  const forged = '+OK\r\nSASL PLAIN\r\nIMPLEMENTATION injected\r\n.\r\n+OK\r\n+OK\r\n';

  async function open(server: StartTlsServer): Promise<Pop3Mailbox | MailError> {
    return await outcomeOf(() =>
      openPop3Mailbox({
        host: server.host,
        port: server.port,
        security: 'starttls',
        username,
        password,
        timeouts: { commandMs: 5_000, greetingMs: 5_000 },
      }),
    );
  }

  async function expectUntouchedSession(server: StartTlsServer, mailbox: Pop3Mailbox | MailError): Promise<void> {
    expect(mailbox).not.toBeInstanceOf(MailError);
    const session = mailbox as Pop3Mailbox;
    try {
      expect(session.capabilities.lines).toContain('IMPLEMENTATION after-tls');
      expect(session.capabilities.lines.join('\n')).not.toMatch(/injected|before-tls/);
      expect(await session.stat()).toEqual({ messageCount: 1, totalBytes: messageBytes });
    } finally {
      await session.quit();
    }
    expect(server.encryptedLines.slice(0, 3)).toEqual(['CAPA', `USER ${username}`, `PASS ${password}`]);
    expectNothingSecretInTheClear(server, POP3_LOGIN);
  }

  it('control: a well-behaved server gets USER/PASS inside TLS only', async () => {
    const server = track(await startPop3StartTlsServer(identity, { kind: 'clean' }, { messageBytes }));
    await expectUntouchedSession(server, await open(server));
    expect(server.receivedLines.slice(0, 2)).toEqual(['CAPA', 'STLS']);
  });

  it('bytes injected behind "+OK Begin TLS" in the same segment are discarded, never read as answers', async () => {
    const server = track(
      await startPop3StartTlsServer(identity, { kind: 'inject-same-segment', bytes: forged }, { messageBytes }),
    );
    await expectUntouchedSession(server, await open(server));
  });

  it('bytes injected in the next segment: discarded or the handshake fails, never read as answers', async () => {
    const server = track(
      await startPop3StartTlsServer(identity, { kind: 'inject-next-segment', bytes: forged }, { messageBytes }),
    );
    const mailbox = await open(server);
    if (mailbox instanceof MailError) {
      expect(server.encryptedLines).toEqual([]);
      expectNothingSecretInTheClear(server, POP3_LOGIN);
    } else {
      await expectUntouchedSession(server, mailbox);
    }
  });
});

describe('SMTP STARTTLS (smtp-socket.ts)', () => {
  const queuedAs = 'REAL4711';
  /**
   * A forged refusal: read as the answer to the EHLO the client sends over TLS, it would make the
   * send fail; a forged acceptance would desynchronise every later reply.
   */
  const forged = '554 5.7.1 injected: go away\r\n250 2.0.0 Ok: queued as FORGED\r\n';

  async function send(server: StartTlsServer) {
    return await outcomeOf(() =>
      sendMessage(
        { endpoint: { host: server.host, port: server.port, security: 'starttls' }, username, password },
        { from: username, to: ['friend@example.org'], subject: 'over STARTTLS', text: 'hello' },
        { timeouts: { connectMs: 5_000, replyMs: 5_000 } },
      ),
    );
  }

  async function expectDeliveredByTheRealServer(server: StartTlsServer, behaviour: UpgradeBehaviour): Promise<void> {
    const result = await send(server);
    expect(result).not.toBeInstanceOf(MailError);
    if (result instanceof MailError) return;
    expect(result.response).toContain(`queued as ${queuedAs}`);
    expect(result.accepted).toEqual(['friend@example.org']);
    expect(server.encryptedLines[0]).toMatch(/^EHLO /);
    expect(server.encryptedLines[1]).toMatch(/^AUTH PLAIN /);
    expect(server.receivedLines.slice(0, 2)).toEqual(['EHLO [127.0.0.1]', 'STARTTLS']);
    expect(server.plaintextBytes().toString('latin1')).toBe('EHLO [127.0.0.1]\r\nSTARTTLS\r\n');
    expectNothingSecretInTheClear(server, SMTP_LOGIN);
    expect(behaviour.kind === 'clean' || !result.response.includes('FORGED')).toBe(true);
  }

  it('control: a well-behaved server gets AUTH inside TLS only', async () => {
    const behaviour: UpgradeBehaviour = { kind: 'clean' };
    const server = track(await startSmtpStartTlsServer(identity, behaviour, queuedAs));
    await expectDeliveredByTheRealServer(server, behaviour);
    expect(findSecret(Buffer.from(server.encryptedLines.join('\r\n')), password, username)).not.toEqual([]);
  });

  it('bytes injected behind "220 Ready to start TLS" in the same segment are discarded, never read as replies', async () => {
    const behaviour: UpgradeBehaviour = { kind: 'inject-same-segment', bytes: forged };
    const server = track(await startSmtpStartTlsServer(identity, behaviour, queuedAs));
    await expectDeliveredByTheRealServer(server, behaviour);
  });

  it('bytes injected in the next segment: discarded or the handshake fails, never read as replies', async () => {
    const behaviour: UpgradeBehaviour = { kind: 'inject-next-segment', bytes: forged };
    const server = track(await startSmtpStartTlsServer(identity, behaviour, queuedAs));
    const probe = await send(server);
    if (probe instanceof MailError) {
      expect(probe.message).not.toMatch(/injected|FORGED/);
      expect(server.encryptedLines).toEqual([]);
      expectNothingSecretInTheClear(server, SMTP_LOGIN);
    } else {
      expect(probe.response).toContain(`queued as ${queuedAs}`);
      expectNothingSecretInTheClear(server, SMTP_LOGIN);
    }
  });
});
