/**
 * Scripted STARTTLS servers for the hardening tests: each speaks just enough IMAP, POP3 or SMTP to
 * reach the upgrade, can misbehave around it the way an attacker on the path would (a PREAUTH
 * greeting, bytes injected after the "go ahead"), and then completes a real TLS handshake with the
 * test CA's certificate — so the client's certificate check passes and only the misbehaviour is
 * under test. After TLS they answer like a server that knows nobody's password.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { MailServerInfo } from '../../e2e/mailserver/types';
import {
  startScriptedServer,
  type ScriptedServer,
  type ScriptedSession,
  type ScriptedTlsIdentity,
} from '../protocols/testing/scripted-server';

/**
 * The test CA's main certificate (valid for 127.0.0.1, where scripted servers listen) and its key,
 * as e2e/mailserver/certificates.ts writes them into `dataDir/tls`. Workers trust the CA through
 * NODE_EXTRA_CA_CERTS, so clients verify these servers with their normal checks.
 */
export async function loadServerIdentity(info: MailServerInfo): Promise<ScriptedTlsIdentity> {
  const directory = path.join(info.dataDir, 'tls');
  const [key, cert] = await Promise.all([
    readFile(path.join(directory, 'main.key')),
    readFile(path.join(directory, 'main.pem')),
  ]);
  return { key, cert };
}

/** What the server does right after its positive answer to STARTTLS / STLS. */
export type UpgradeBehaviour =
  /** Nothing: a well-behaved server (the control case). */
  | { kind: 'clean' }
  /** Appends `bytes` to the "go ahead" answer in the same write, so one TCP segment (CVE-2011-0411). */
  | { kind: 'inject-same-segment'; bytes: string }
  /** Sends `bytes` in a separate write just after the answer, before the handshake starts. */
  | { kind: 'inject-next-segment'; bytes: string };

export interface StartTlsServer extends ScriptedServer {
  /** Lines the client sent after the TLS handshake (command verbs and arguments, as sent). */
  readonly encryptedLines: string[];
  /** Sessions whose TLS handshake completed. */
  readonly handshakes: number;
}

interface ProtocolScript {
  greeting: string;
  /** Answers one line before TLS; `upgrade` is called with the "go ahead" answer for STARTTLS. */
  plain(line: string, reply: (text: string) => void, upgrade: (goAhead: string) => void): void;
  /** Answers one line after TLS. */
  encrypted(line: string, reply: (text: string) => void, session: ScriptedSession): void;
}

async function startStartTlsServer(
  identity: ScriptedTlsIdentity,
  behaviour: UpgradeBehaviour,
  protocol: ProtocolScript,
): Promise<StartTlsServer> {
  const encryptedLines: string[] = [];
  let handshakes = 0;
  const upgrade = (session: ScriptedSession, goAhead: string): void => {
    if (behaviour.kind === 'inject-same-segment') {
      session.send(goAhead + behaviour.bytes);
    } else {
      session.send(goAhead);
      if (behaviour.kind === 'inject-next-segment') session.send(behaviour.bytes);
    }
    void session.startTls(identity).then(
      () => {
        handshakes += 1;
      },
      () => undefined,
    );
  };
  const server = await startScriptedServer({
    onConnect: (session) => session.send(protocol.greeting),
    onLine: (line, session) => {
      const reply = (text: string): void => session.send(text);
      if (session.encrypted) {
        encryptedLines.push(line);
        protocol.encrypted(line, reply, session);
      } else {
        protocol.plain(line, reply, (goAhead) => upgrade(session, goAhead));
      }
    },
  });
  return {
    host: server.host,
    port: server.port,
    receivedLines: server.receivedLines,
    plaintextBytes: server.plaintextBytes,
    close: server.close,
    encryptedLines,
    get handshakes() {
      return handshakes;
    },
  };
}

/** IMAP (RFC 3501/9051): the tag and the command name of a line. */
function imapCommand(line: string): { tag: string; name: string } {
  const [tag = '*', name = ''] = line.split(' ');
  return { tag, name: name.toUpperCase() };
}

export interface ImapScriptOptions {
  /** The greeting; default a normal "* OK" that does not list capabilities. */
  greeting?: string;
  /** Capabilities announced before TLS; default with STARTTLS. */
  plainCapabilities?: string;
}

/**
 * An IMAP server that offers STARTTLS; after TLS it offers AUTH=PLAIN and refuses every login
 * with [AUTHENTICATIONFAILED], so a client that got that far fails with AUTH_FAILED, having sent
 * its credentials only inside TLS.
 */
export function startImapStartTlsServer(
  identity: ScriptedTlsIdentity,
  behaviour: UpgradeBehaviour,
  options: ImapScriptOptions = {},
): Promise<StartTlsServer> {
  const plainCapabilities = options.plainCapabilities ?? 'IMAP4rev1 STARTTLS LOGINDISABLED ID';
  let pendingAuthenticationTag: string | null = null;
  return startStartTlsServer(identity, behaviour, {
    greeting: options.greeting ?? '* OK scripted IMAP ready\r\n',
    plain: (line, reply, upgrade) => {
      const { tag, name } = imapCommand(line);
      if (name === 'CAPABILITY') reply(`* CAPABILITY ${plainCapabilities}\r\n${tag} OK done\r\n`);
      else if (name === 'ID') reply(`* ID NIL\r\n${tag} OK done\r\n`);
      else if (name === 'STARTTLS') upgrade(`${tag} OK Begin TLS negotiation now\r\n`);
      else if (name === 'LOGOUT') reply(`* BYE bye\r\n${tag} OK done\r\n`);
      else reply(`${tag} BAD not before STARTTLS\r\n`);
    },
    encrypted: (line, reply) => {
      if (pendingAuthenticationTag !== null) {
        // The SASL response line that followed our "+" continuation (RFC 3501 section 6.2.2).
        reply(`${pendingAuthenticationTag} NO [AUTHENTICATIONFAILED] Authentication failed (scripted)\r\n`);
        pendingAuthenticationTag = null;
        return;
      }
      const { tag, name } = imapCommand(line);
      if (name === 'CAPABILITY') reply(`* CAPABILITY IMAP4rev1 AUTH=PLAIN ID\r\n${tag} OK done\r\n`);
      else if (name === 'ID') reply(`* ID NIL\r\n${tag} OK done\r\n`);
      else if (name === 'AUTHENTICATE' && line.split(' ').length <= 3) {
        pendingAuthenticationTag = tag;
        reply('+ \r\n');
      } else if (name === 'AUTHENTICATE' || name === 'LOGIN') {
        reply(`${tag} NO [AUTHENTICATIONFAILED] Authentication failed (scripted)\r\n`);
      } else if (name === 'LOGOUT') reply(`* BYE bye\r\n${tag} OK done\r\n`);
      else reply(`${tag} BAD unexpected\r\n`);
    },
  });
}

/**
 * A POP3 server that offers STLS (RFC 2595); after TLS it offers USER and holds one message, so
 * a client that ignored injected bytes logs in and sees exactly what this server says.
 */
export function startPop3StartTlsServer(
  identity: ScriptedTlsIdentity,
  behaviour: UpgradeBehaviour,
  mailbox: { messageBytes: number },
): Promise<StartTlsServer> {
  return startStartTlsServer(identity, behaviour, {
    greeting: '+OK scripted POP3 ready\r\n',
    plain: (line, reply, upgrade) => {
      const verb = line.split(' ')[0].toUpperCase();
      if (verb === 'CAPA') reply('+OK\r\nSTLS\r\nUSER\r\nIMPLEMENTATION before-tls\r\n.\r\n');
      else if (verb === 'STLS') upgrade('+OK Begin TLS negotiation\r\n');
      else if (verb === 'QUIT') reply('+OK bye\r\n');
      else reply('-ERR not before STLS\r\n');
    },
    encrypted: (line, reply, session) => {
      const verb = line.split(' ')[0].toUpperCase();
      if (verb === 'CAPA') reply('+OK\r\nUSER\r\nUIDL\r\nIMPLEMENTATION after-tls\r\n.\r\n');
      else if (verb === 'USER' || verb === 'PASS') reply('+OK\r\n');
      else if (verb === 'STAT') reply(`+OK 1 ${mailbox.messageBytes}\r\n`);
      else if (verb === 'QUIT') {
        reply('+OK bye\r\n');
        session.socket.end();
      } else reply('-ERR unexpected\r\n');
    },
  });
}

/**
 * An SMTP submission server that offers STARTTLS (RFC 3207); after TLS it offers AUTH PLAIN and
 * accepts one message, answering the end of data with `queuedAs` so a test can tell its answer
 * from an injected one.
 */
export function startSmtpStartTlsServer(
  identity: ScriptedTlsIdentity,
  behaviour: UpgradeBehaviour,
  queuedAs: string,
): Promise<StartTlsServer> {
  let inData = false;
  return startStartTlsServer(identity, behaviour, {
    greeting: '220 scripted.example ESMTP ready\r\n',
    plain: (line, reply, upgrade) => {
      const verb = line.split(' ')[0].toUpperCase();
      if (verb === 'EHLO') reply('250-scripted.example\r\n250-STARTTLS\r\n250 8BITMIME\r\n');
      else if (verb === 'STARTTLS') upgrade('220 2.0.0 Ready to start TLS\r\n');
      else if (verb === 'QUIT') reply('221 bye\r\n');
      else reply('530 5.7.0 Must issue a STARTTLS command first\r\n');
    },
    encrypted: (line, reply, session) => {
      if (inData) {
        if (line === '.') {
          inData = false;
          reply(`250 2.0.0 Ok: queued as ${queuedAs}\r\n`);
        }
        return;
      }
      const verb = line.split(' ')[0].toUpperCase();
      if (verb === 'EHLO') reply('250-scripted.example\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
      else if (verb === 'AUTH') reply('235 2.7.0 Authentication successful\r\n');
      else if (verb === 'MAIL' || verb === 'RCPT') reply('250 2.1.0 Ok\r\n');
      else if (verb === 'DATA') {
        inData = true;
        reply('354 End data with <CR><LF>.<CR><LF>\r\n');
      } else if (verb === 'QUIT') {
        reply('221 2.0.0 Bye\r\n');
        session.socket.end();
      } else reply('502 5.5.2 unexpected\r\n');
    },
  });
}
