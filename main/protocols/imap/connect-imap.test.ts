/**
 * Connecting for real: what the user sees for each way a connection can fail, against the test
 * Dovecot's good and deliberately bad listeners, and that nothing private is sent where it must
 * not be (client bytes recorded through a loopback proxy).
 */
import { createServer } from 'node:net';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestUser } from '../../../e2e/mailserver/test-users';
import type { TestUser } from '../../../e2e/mailserver/types';
import { MailError } from '../../../shared/errors';
import type { ServerEndpoint } from '../../../shared/model';
import { startReslicingProxy } from '../testing/reslicing-proxy';
import { startScriptedServer } from '../testing/scripted-server';
import { connectImap } from './connect-imap';
import type { ImapSession } from './imap-mailbox';
import { eventually, implicitTls, open, starttls } from './imap-test-support';

const info = inject('mailServer');
let user: TestUser;

beforeAll(async () => {
  user = await createTestUser(info);
});

async function failure(endpoint: ServerEndpoint, password?: string, timeouts = {}): Promise<MailError> {
  const attempt = connectImap({ endpoint, username: user.username, password: password ?? user.password, timeouts });
  const error = await attempt.then(
    async (session) => {
      await session.close();
      throw new Error('connected, but should have failed');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MailError);
  return error as MailError;
}

/** Sent by the client before it authenticates; LOGIN/AUTHENTICATE would carry the password. */
function containsCredentials(clientBytes: Buffer): boolean {
  return /\b(LOGIN|AUTHENTICATE)\b/i.test(clientBytes.toString('latin1'));
}

describe('logging in', () => {
  it('works over implicit TLS and STARTTLS, with the post-login capabilities', async () => {
    for (const endpoint of [implicitTls(info), starttls(info)]) {
      const session = await open(user, endpoint);
      expect(session.capabilities.has('IMAP4REV1')).toBe(true);
      expect(session.capabilities.has('CONDSTORE')).toBe(true);
      expect((await session.select('INBOX')).path).toBe('INBOX');
      await session.close();
      expect(session.closed).toBe(true);
    }
  });

  it('reports a wrong password as AUTH_FAILED with the server’s words', async () => {
    const error = await failure(implicitTls(info), 'not-the-password');
    expect(error.code).toBe('AUTH_FAILED');
    expect(error.details.serverText).toMatch(/authentication failed/i);
    expect(error.message).toMatch(/user name or password/);
  });
});

describe('certificates', () => {
  it('refuses a self-signed certificate and gives its SHA-256 for pinning (implicit TLS and STARTTLS)', async () => {
    const selfSigned = info.badTls.selfSigned;
    for (const endpoint of [
      { host: selfSigned.host, port: selfSigned.imaps, security: 'tls' as const },
      { host: selfSigned.host, port: selfSigned.imap, security: 'starttls' as const },
    ]) {
      const error = await failure(endpoint);
      expect(error.code).toBe('CERT_UNTRUSTED');
      expect(error.details.fingerprint).toBe(selfSigned.fingerprint);
      expect(error.message).toContain('not trusted');
    }
  });

  it('refuses an expired certificate', async () => {
    const expired = info.badTls.expired;
    const error = await failure({ host: expired.host, port: expired.imaps, security: 'tls' });
    expect(error.code).toBe('CERT_EXPIRED');
    expect(error.message).toMatch(/expired/);
  });

  it('refuses a certificate issued for another host name', async () => {
    const wrongHost = info.badTls.wrongHost;
    for (const endpoint of [
      { host: wrongHost.host, port: wrongHost.imaps, security: 'tls' as const },
      { host: wrongHost.host, port: wrongHost.imap, security: 'starttls' as const },
    ]) {
      const error = await failure(endpoint);
      expect(error.code).toBe('CERT_HOSTNAME_MISMATCH');
    }
  });

  it('accepts a self-signed server once its fingerprint is pinned, over implicit TLS and STARTTLS', async () => {
    const selfSigned = info.badTls.selfSigned;
    for (const endpoint of [
      { host: selfSigned.host, port: selfSigned.imaps, security: 'tls' as const },
      { host: selfSigned.host, port: selfSigned.imap, security: 'starttls' as const },
    ]) {
      const session = await open(user, { ...endpoint, pinnedFingerprint: selfSigned.fingerprint.toUpperCase() });
      expect((await session.listFolders()).map((folder) => folder.path)).toContain('INBOX');
      await session.close();
    }
  });

  it('accepts only the pinned certificate: a wrong pin fails even where the certificate is otherwise valid', async () => {
    const selfSigned = info.badTls.selfSigned;
    const wrongPin = await failure({
      host: selfSigned.host,
      port: selfSigned.imaps,
      security: 'tls',
      pinnedFingerprint: info.fingerprint,
    });
    expect(wrongPin.code).toBe('CERT_UNTRUSTED');
    expect(wrongPin.details.fingerprint).toBe(selfSigned.fingerprint);
    expect(wrongPin.message).toMatch(/different certificate/);

    const pinnedElsewhere = await failure({ ...implicitTls(info), pinnedFingerprint: selfSigned.fingerprint });
    expect(pinnedElsewhere.code).toBe('CERT_UNTRUSTED');
    expect(pinnedElsewhere.details.fingerprint).toBe(info.fingerprint);
  });
});

describe('refusing to send secrets unencrypted', () => {
  it('fails with STARTTLS_UNAVAILABLE when the server offers no STARTTLS, before any LOGIN', async () => {
    const proxy = await startReslicingProxy({
      targetHost: info.noTls.host,
      targetPort: info.noTls.imap,
      slicing: { kind: 'none' },
    });
    try {
      const error = await failure({ host: proxy.host, port: proxy.port, security: 'starttls' });
      expect(error.code).toBe('STARTTLS_UNAVAILABLE');
      const sent = proxy.clientBytes();
      const commands = sent.toString('latin1').split('\r\n').filter(Boolean);
      expect(commands.length).toBeGreaterThan(0);
      for (const command of commands) expect(command).toMatch(/^\S+ (CAPABILITY|ID|LOGOUT)\b/);
      expect(containsCredentials(sent)).toBe(false);
      expect(sent.includes(Buffer.from(user.password))).toBe(false);
    } finally {
      await proxy.close();
    }
  });

  it('refuses security "none" without allowPlaintext before connecting at all', async () => {
    let connections = 0;
    const server = await startScriptedServer({
      onConnect: (session) => {
        connections += 1;
        session.send('* OK ready\r\n');
      },
    });
    try {
      const error = await failure({ host: server.host, port: server.port, security: 'none' });
      expect(error.code).toBe('PLAINTEXT_REFUSED');
      expect(connections).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('logs in over plaintext only when the account explicitly allows it', async () => {
    const session = await open(user, {
      host: info.noTls.host,
      port: info.noTls.imap,
      security: 'none',
      allowPlaintext: true,
    });
    expect((await session.select('INBOX')).exists).toBe(0);
    await session.close();
  });
});

describe('network failures', () => {
  it('reports a closed port as CONNECTION_REFUSED', async () => {
    const probe = createServer();
    const port = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await failure({ host: '127.0.0.1', port, security: 'tls' });
    expect(error.code).toBe('CONNECTION_REFUSED');
    expect(error.details.port).toBe(port);
  });

  it('reports a server that never greets as TIMEOUT, within the configured time', async () => {
    const silent = await startScriptedServer({ onConnect: () => undefined });
    try {
      const startedAt = Date.now();
      const plain = await failure(
        { host: silent.host, port: silent.port, security: 'none', allowPlaintext: true },
        undefined,
        { greetingMs: 300 },
      );
      expect(plain.code).toBe('TIMEOUT');
      expect(plain.message).toMatch(/greeting/);
      // Implicit TLS to a server that never answers the handshake.
      const secure = await failure({ host: silent.host, port: silent.port, security: 'tls' }, undefined, {
        connectMs: 300,
      });
      expect(secure.code).toBe('TIMEOUT');
      expect(Date.now() - startedAt).toBeLessThan(5_000);
    } finally {
      await silent.close();
    }
  });

  it('reports a silent connection as an error event (TIMEOUT) followed by close', async () => {
    const session = await open(user, implicitTls(info), { timeouts: { socketMs: 400 } });
    const errors: MailError[] = [];
    let closed = false;
    session.on('error', (error) => errors.push(error));
    session.on('close', () => {
      closed = true;
    });
    try {
      await eventually(() => closed, 5_000, 'the close event');
      expect(errors.map((error) => error.code)).toEqual(['TIMEOUT']);
      await expect(session.status('INBOX')).rejects.toMatchObject({ code: 'TIMEOUT' });
    } finally {
      await session.close();
    }
  });

  it('refuses a literal above the maximum instead of buffering it (SERVER_ERROR, connection closed)', async () => {
    let linesSeen = 0;
    const server = await startScriptedServer({
      onConnect: (session) => session.send('* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n'),
      onLine: (_line, session) => {
        linesSeen += 1;
        // Announces 1 GiB and sends nothing of it: the client must give up at the announcement.
        if (linesSeen === 1) session.send('* 1 FETCH (BODY[] {1073741824}\r\n');
      },
    });
    try {
      const startedAt = Date.now();
      const error = await failure({ host: server.host, port: server.port, security: 'none', allowPlaintext: true });
      expect(error.code).toBe('SERVER_ERROR');
      expect(error.message).toMatch(/larger than Whereabouts accepts/);
      expect(Date.now() - startedAt).toBeLessThan(2_000);
    } finally {
      await server.close();
    }
  });

  it('emits close when the connection drops mid-session, and the next command fails with CONNECTION_LOST', async () => {
    const proxy = await startReslicingProxy({
      targetHost: info.host,
      targetPort: info.ports.imaps,
      slicing: { kind: 'none' },
    });
    let session: ImapSession | null = null;
    try {
      // The proxy listens on 127.0.0.1, which the certificate does not name: pin it instead.
      session = await open(user, {
        host: proxy.host,
        port: proxy.port,
        security: 'tls',
        pinnedFingerprint: info.fingerprint,
      });
      await session.select('INBOX');
      let closed = false;
      session.on('close', () => {
        closed = true;
      });
      await proxy.close();
      await eventually(() => closed, 5_000, 'the close event');
      expect(session.closed).toBe(true);
      const error = await session.listFolders().then(
        () => null,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(MailError);
      expect((error as MailError).code).toBe('CONNECTION_LOST');
    } finally {
      await session?.close();
      await proxy.close().catch(() => undefined);
    }
  });
});
