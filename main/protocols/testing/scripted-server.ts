/**
 * A loopback TCP server whose answers a test writes by hand — only for what a real mail server
 * will not do on request (greet with an error, never greet, send fewer bytes than it announced,
 * inject bytes around a STARTTLS upgrade). It hands the test each command line the client sends,
 * and keeps every byte clients sent before TLS, so a test can check what travelled in the clear.
 */
import { createServer, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';

/** A server certificate and key (PEM) for `startTls`, e.g. the test CA's main certificate. */
export interface ScriptedTlsIdentity {
  key: Buffer | string;
  cert: Buffer | string;
}

export interface ScriptedSession {
  /** The current transport: the TCP socket, or the TLS socket once `startTls` ran. */
  readonly socket: Socket;
  send(text: string | Buffer): void;
  /**
   * Turns this connection into the server side of a TLS session (STARTTLS, RFC 3207 / 2595 / 3501),
   * after the test sent its "go ahead" answer. Lines read afterwards come from the TLS socket.
   * Resolves when the handshake completed; rejects when the client gave up on it.
   */
  startTls(identity: ScriptedTlsIdentity): Promise<void>;
  readonly encrypted: boolean;
}

export interface ScriptedServer {
  host: string;
  port: number;
  /** Every line clients sent, without CRLF, all sessions in order. */
  readonly receivedLines: string[];
  /** Every byte clients sent in the clear (before `startTls`), all sessions in order. */
  plaintextBytes(): Buffer;
  close(): Promise<void>;
}

export interface Script {
  /** Runs when a client connects (send a greeting here, or don't). */
  onConnect(session: ScriptedSession): void;
  /** Runs for each command line; the line has no CRLF. */
  onLine?(line: string, session: ScriptedSession): void;
}

export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const receivedLines: string[] = [];
  const plaintext: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((plainSocket) => {
    let current: Socket = plainSocket;
    let encrypted = false;
    let buffered = '';
    const track = (socket: Socket): void => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    };
    const onData = (bytes: Buffer): void => {
      if (!encrypted) plaintext.push(Buffer.from(bytes));
      buffered += bytes.toString('latin1');
      for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        receivedLines.push(line);
        script.onLine?.(line, session);
      }
    };
    const session: ScriptedSession = {
      get socket() {
        return current;
      },
      get encrypted() {
        return encrypted;
      },
      send: (text) => {
        current.write(text);
      },
      startTls: (identity) => {
        // Whatever the client sent in the clear after its STARTTLS line is not part of the TLS session.
        plainSocket.off('data', onData);
        buffered = '';
        encrypted = true;
        const secure = new TLSSocket(plainSocket, { isServer: true, key: identity.key, cert: identity.cert });
        track(secure);
        current = secure;
        secure.on('data', onData);
        const handshake = new Promise<void>((resolve, reject) => {
          secure.once('secure', () => resolve());
          secure.once('error', reject);
          secure.once('close', () => reject(new Error('The client closed the connection during the TLS handshake.')));
        });
        // A script may fire and forget the upgrade (the client refusing it is often the point of a test).
        handshake.catch(() => undefined);
        return handshake;
      },
    };
    track(plainSocket);
    plainSocket.on('data', onData);
    script.onConnect(session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The scripted server has no TCP address.');
  return {
    host: '127.0.0.1',
    port: address.port,
    receivedLines,
    plaintextBytes: () => Buffer.concat(plaintext),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
