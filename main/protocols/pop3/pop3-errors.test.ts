/**
 * Every failure a POP3 user can meet, produced for real (Dovecot and its bad-certificate
 * listeners), or by a scripted loopback server for what Dovecot will not do on request; each is
 * checked for its code and for a message a person can act on.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { MailError, type ErrorCode } from '../../../shared/errors';
import { createTestUser, putMessage } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { startReslicingProxy } from '../testing/reslicing-proxy';
import { startScriptedServer, type Script } from '../testing/scripted-server';
import { formatFingerprint } from '../tls-errors';
import { Pop3Client, type Pop3ConnectOptions } from './pop3-client';
import { openPop3Mailbox } from './pop3-mailbox';

const server = inject('mailServer');
const cleanUps: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});

function options(user: Pick<TestUser, 'username' | 'password'>, overrides: Partial<Pop3ConnectOptions> = {}) {
  return {
    host: server.host,
    port: server.ports.pop3s,
    security: 'tls',
    username: user.username,
    password: user.password,
    timeouts: { commandMs: 10_000 },
    ...overrides,
  } satisfies Pop3ConnectOptions;
}

/** Runs `attempt`, which must fail with a MailError of `code`; returns the error for more checks. */
async function failure(code: ErrorCode, attempt: () => Promise<unknown>): Promise<MailError> {
  try {
    const result = await attempt();
    if (result instanceof Pop3Client) result.close();
  } catch (error) {
    expect(error).toBeInstanceOf(MailError);
    const mailError = error as MailError;
    expect({ code: mailError.code, message: mailError.message }).toMatchObject({ code });
    return mailError;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

const nobody = { username: 'nobody', password: 'irrelevant' };

describe('POP3 errors: authentication and the mailbox', () => {
  it('wrong password → AUTH_FAILED naming the user, with the server’s text', async () => {
    const user = await createTestUser(server);
    const error = await failure('AUTH_FAILED', () => openPop3Mailbox(options({ ...user, password: 'wrong' })));
    expect(error.message).toContain(user.username);
    expect(error.message).toMatch(/user name or password/);
    expect(error.details.serverText).toMatch(/AUTH|Authentication failed/);
  });

  it('wrong password with USER/PASS over STLS → AUTH_FAILED too', async () => {
    const user = await createTestUser(server);
    await failure('AUTH_FAILED', () =>
      openPop3Mailbox(
        options(
          { ...user, password: 'wrong' },
          { port: server.ports.pop3, security: 'starttls', authentication: 'user-pass' },
        ),
      ),
    );
  });

  it('a second session while one is open → MAILBOX_IN_USE ([IN-USE], RFC 2449)', async () => {
    const user = await createTestUser(server);
    await putMessage(server, user, Buffer.from('Subject: locked\r\n\r\nbody\r\n'));
    const first = await openPop3Mailbox(options(user));
    cleanUps.push(() => first.quit());
    // Dovecot waits 10 s for the lock before answering [IN-USE]; the client must outwait it.
    const error = await failure('MAILBOX_IN_USE', () =>
      openPop3Mailbox(options(user, { timeouts: { commandMs: 20_000 } })),
    );
    expect(error.message).toMatch(/Another program is using this mailbox/);
    expect(error.details.serverText).toMatch(/IN-USE/);
  });
});

describe('POP3 errors: certificates', () => {
  const { selfSigned, expired, wrongHost } = server.badTls;

  it('self-signed → CERT_UNTRUSTED with the SHA-256 to pin; pinned, it connects', async () => {
    const user = await createTestUser(server);
    const target = { host: selfSigned.host, port: selfSigned.pop3s };
    const error = await failure('CERT_UNTRUSTED', () => openPop3Mailbox(options(user, target)));
    expect(error.details.fingerprint).toBe(selfSigned.fingerprint);
    expect(error.message).toContain(`SHA-256 ${formatFingerprint(selfSigned.fingerprint)}`);
    expect(error.message).toMatch(/not trusted/);

    const pinned = await openPop3Mailbox(options(user, { ...target, pinnedFingerprint: error.details.fingerprint }));
    expect((await pinned.stat()).messageCount).toBe(0);
    await pinned.quit();
  });

  it('pinned over STLS too, and a pin accepts that certificate only', async () => {
    const user = await createTestUser(server);
    const stls = { host: selfSigned.host, port: selfSigned.pop3, security: 'starttls' as const };
    const pinned = await openPop3Mailbox(options(user, { ...stls, pinnedFingerprint: selfSigned.fingerprint }));
    await pinned.quit();
    // The main server's certificate is valid, but it is not the pinned one.
    const error = await failure('CERT_UNTRUSTED', () =>
      openPop3Mailbox(options(user, { pinnedFingerprint: selfSigned.fingerprint })),
    );
    expect(error.message).toMatch(/different certificate/);
    expect(error.details.fingerprint).toBe(server.fingerprint);
  });

  it('expired → CERT_EXPIRED', async () => {
    const error = await failure('CERT_EXPIRED', () =>
      openPop3Mailbox(options(nobody, { host: expired.host, port: expired.pop3s })),
    );
    expect(error.message).toMatch(/has expired/);
  });

  it('issued for another host → CERT_HOSTNAME_MISMATCH', async () => {
    const error = await failure('CERT_HOSTNAME_MISMATCH', () =>
      openPop3Mailbox(options(nobody, { host: wrongHost.host, port: wrongHost.pop3s })),
    );
    expect(error.message).toMatch(/different server name/);
    expect(error.details.fingerprint).toBe(wrongHost.fingerprint);
  });

  it('the same checks apply after STLS', async () => {
    await failure('CERT_EXPIRED', () =>
      openPop3Mailbox(options(nobody, { host: expired.host, port: expired.pop3, security: 'starttls' })),
    );
  });
});

describe('POP3 errors: transport security', () => {
  it('no STLS offered → STARTTLS_UNAVAILABLE, and no credentials were sent', async () => {
    const user = await createTestUser(server);
    const proxy = await startReslicingProxy({
      targetHost: server.noTls.host,
      targetPort: server.noTls.pop3,
      slicing: { kind: 'none' },
    });
    cleanUps.push(() => proxy.close());
    const error = await failure('STARTTLS_UNAVAILABLE', () =>
      openPop3Mailbox(options(user, { host: proxy.host, port: proxy.port, security: 'starttls' })),
    );
    expect(error.message).toMatch(/does not offer STARTTLS/);
    const sent = proxy.clientBytes().toString('latin1');
    expect(sent).toContain('CAPA');
    expect(sent).not.toMatch(/USER|PASS|AUTH|APOP/);
    expect(sent).not.toContain(user.password);
  });

  it('a server without CAPA is asked for STLS; refusing it → STARTTLS_UNAVAILABLE, still no credentials', async () => {
    const scriptedServer = await startScriptedServer(
      scripted('+OK old server\r\n', { CAPA: '-ERR unknown command\r\n', STLS: '-ERR unknown command\r\n' }),
    );
    cleanUps.push(() => scriptedServer.close());
    await failure('STARTTLS_UNAVAILABLE', () =>
      openPop3Mailbox(options(nobody, { host: scriptedServer.host, port: scriptedServer.port, security: 'starttls' })),
    );
    expect(scriptedServer.receivedLines).toEqual(['CAPA', 'STLS']);
  });

  it('security none without permission → PLAINTEXT_REFUSED before connecting', async () => {
    const proxy = await startReslicingProxy({
      targetHost: server.noTls.host,
      targetPort: server.noTls.pop3,
      slicing: { kind: 'none' },
    });
    cleanUps.push(() => proxy.close());
    await failure('PLAINTEXT_REFUSED', () =>
      openPop3Mailbox(options(nobody, { host: proxy.host, port: proxy.port, security: 'none' })),
    );
    expect(proxy.clientBytes().length).toBe(0);
  });
});

describe('POP3 errors: the network', () => {
  it('a closed port → CONNECTION_REFUSED', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await failure('CONNECTION_REFUSED', () =>
      openPop3Mailbox(options(nobody, { host: '127.0.0.1', port })),
    );
    expect(error.message).toContain(`127.0.0.1:${port} refused the connection`);
  });

  it('an unknown host name → HOST_NOT_FOUND', async () => {
    // .invalid is reserved never to resolve (RFC 2606 §2).
    const error = await failure('HOST_NOT_FOUND', () =>
      openPop3Mailbox(options(nobody, { host: 'pop.whereabouts.invalid', port: 995 })),
    );
    expect(error.message).toContain('pop.whereabouts.invalid could not be found');
  });

  it('a server that accepts and never greets → TIMEOUT after the greeting timeout', async () => {
    const silent = await startScriptedServer({ onConnect: () => undefined });
    cleanUps.push(() => silent.close());
    const started = performance.now();
    const error = await failure('TIMEOUT', () =>
      openPop3Mailbox(
        options(nobody, {
          host: silent.host,
          port: silent.port,
          security: 'none',
          allowPlaintext: true,
          timeouts: { greetingMs: 300 },
        }),
      ),
    );
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error.message).toMatch(/did not answer within 0.3 s \(waiting for the greeting\)/);
  });

  it('a connection cut in the middle of RETR → CONNECTION_LOST, not a hang or a short message', async () => {
    const user = await createTestUser(server);
    await putMessage(server, user, Buffer.from(`Subject: cut\r\n\r\n${`${'c'.repeat(998)}\r\n`.repeat(300)}`));
    const proxy = await startReslicingProxy({
      targetHost: server.noTls.host,
      targetPort: server.noTls.pop3,
      slicing: { kind: 'none' },
      cutAfterServerBytes: 100_000,
    });
    cleanUps.push(() => proxy.close());
    const mailbox = await openPop3Mailbox(
      options(user, { host: proxy.host, port: proxy.port, security: 'none', allowPlaintext: true }),
    );
    const error = await failure('CONNECTION_LOST', () => mailbox.retrieve(1));
    expect(error.message).toMatch(/closed the connection while answering RETR 1/);
    // Nothing more can be done on a lost session.
    await failure('CONNECTION_LOST', () => mailbox.stat());
  });
});

/** A minimal POP3 dialogue for the scripted servers below (only what real servers won't do on request). */
function scripted(greeting: string, answers: Record<string, string>): Script {
  return {
    onConnect: (session) => session.send(greeting),
    onLine: (line, session) => {
      const verb = line.split(' ')[0].toUpperCase();
      session.send(answers[line] ?? answers[verb] ?? '-ERR unknown command\r\n');
    },
  };
}

describe('POP3 errors: what only a scripted server does', () => {
  const plain = { security: 'none', allowPlaintext: true } as const;

  it('-ERR greeting → SERVER_ERROR with the server’s text, not an uncaught exception', async () => {
    const scriptedServer = await startScriptedServer(scripted('-ERR [SYS/TEMP] Too many connections\r\n', {}));
    cleanUps.push(() => scriptedServer.close());
    const error = await failure('SERVER_ERROR', () =>
      openPop3Mailbox(options(nobody, { host: scriptedServer.host, port: scriptedServer.port, ...plain })),
    );
    expect(error.details.serverText).toBe('[SYS/TEMP] Too many connections');
    expect(error.message).toContain('refused the session: [SYS/TEMP] Too many connections');
  });

  it('RETR shorter than LIST announced → SIZE_MISMATCH', async () => {
    const scriptedServer = await startScriptedServer(
      scripted('+OK ready\r\n', {
        CAPA: '+OK\r\nUSER\r\n.\r\n',
        USER: '+OK\r\n',
        PASS: '+OK logged in\r\n',
        'LIST 1': '+OK 1 100\r\n',
        'RETR 1': '+OK\r\nSubject: short\r\n\r\nonly part of it\r\n.\r\n',
        QUIT: '+OK bye\r\n',
      }),
    );
    cleanUps.push(() => scriptedServer.close());
    const mailbox = await openPop3Mailbox(
      options(nobody, { host: scriptedServer.host, port: scriptedServer.port, ...plain }),
    );
    const error = await failure('SIZE_MISMATCH', () => mailbox.retrieve(1));
    expect(error.message).toMatch(/arrived with 35 bytes, but the server announced 100/);
    await mailbox.quit();
  });

  it('APOP sends the RFC 1939 digest of the greeting timestamp, never the password', async () => {
    const scriptedServer = await startScriptedServer(
      scripted('+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n', {
        CAPA: '-ERR\r\n',
        'APOP mrose c4c9334bac560ecc979e58001b3e22fb': '+OK maildrop has 0 messages\r\n',
        QUIT: '+OK\r\n',
      }),
    );
    cleanUps.push(() => scriptedServer.close());
    const mailbox = await Pop3Client.connect(
      options(
        { username: 'mrose', password: 'tanstaaf' },
        { host: scriptedServer.host, port: scriptedServer.port, ...plain, authentication: 'apop' },
      ),
    );
    expect(mailbox.capabilities.known).toBe(false);
    await mailbox.quit();
    expect(scriptedServer.receivedLines.join('\n')).not.toContain('tanstaaf');
  });

  it('without PIPELINING, retrieveMany sends each RETR only after the previous answer', async () => {
    let answered = 0;
    /** At each answer: how many more RETRs the client had sent beyond the one being answered. */
    const sentAheadAtAnswer: number[] = [];
    const scriptedServer = await startScriptedServer({
      onConnect: (session) => session.send('+OK ready\r\n'),
      onLine: (line, session) => {
        const answers: Record<string, string> = {
          CAPA: '+OK\r\nUSER\r\nUIDL\r\n.\r\n',
          LIST: '+OK\r\n1 6\r\n2 6\r\n3 6\r\n.\r\n',
          QUIT: '+OK\r\n',
        };
        const retrieve = /^RETR (\d)$/.exec(line);
        if (retrieve) {
          // Answer late: a client that pipelines would have sent the next RETR meanwhile.
          setTimeout(() => {
            const retrievesReceived = scriptedServer.receivedLines.filter((sent) => sent.startsWith('RETR')).length;
            sentAheadAtAnswer.push(retrievesReceived - answered - 1);
            answered += 1;
            session.send(`+OK\r\nm${retrieve[1]}\r\n\r\n.\r\n`);
          }, 30);
          return;
        }
        session.send(answers[line] ?? (line.startsWith('USER') || line.startsWith('PASS') ? '+OK\r\n' : '-ERR\r\n'));
      },
    });
    cleanUps.push(() => scriptedServer.close());
    const mailbox = await Pop3Client.connect(
      options(nobody, { host: scriptedServer.host, port: scriptedServer.port, ...plain }),
    );
    expect(mailbox.capabilities.pipelining).toBe(false);
    const received: string[] = [];
    await mailbox.retrieveMany([1, 2, 3], (number, bytes) => {
      received.push(`${number}:${bytes.toString()}`);
    });
    expect(received).toEqual(['1:m1\r\n\r\n', '2:m2\r\n\r\n', '3:m3\r\n\r\n']);
    expect(sentAheadAtAnswer).toEqual([0, 0, 0]);
    await mailbox.quit();
  });

  it('QUIT answered -ERR → SERVER_ERROR saying deletions did not happen', async () => {
    const scriptedServer = await startScriptedServer(
      scripted('+OK ready\r\n', {
        CAPA: '-ERR\r\n',
        USER: '+OK\r\n',
        PASS: '+OK\r\n',
        'DELE 1': '+OK marked\r\n',
        QUIT: '-ERR some deleted messages not removed\r\n',
      }),
    );
    cleanUps.push(() => scriptedServer.close());
    const mailbox = await openPop3Mailbox(
      options(nobody, { host: scriptedServer.host, port: scriptedServer.port, ...plain }),
    );
    await mailbox.delete(1);
    const error = await failure('SERVER_ERROR', () => mailbox.quit());
    expect(error.message).toMatch(/were not deleted/);
  });
});
