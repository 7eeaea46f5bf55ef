/**
 * A loopback TCP server whose answers a test writes by hand — only for what a real mail server
 * will not do on request (greet with an error, never greet, send fewer bytes than it announced).
 * It hands the test each command line the client sends.
 */
import { createServer, type Socket } from 'node:net';

export interface ScriptedSession {
  socket: Socket;
  send(text: string | Buffer): void;
}

export interface ScriptedServer {
  host: string;
  port: number;
  /** Every line clients sent, without CRLF, all sessions in order. */
  readonly receivedLines: string[];
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
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const session: ScriptedSession = { socket, send: (text) => socket.write(text) };
    let buffered = '';
    socket.on('data', (bytes: Buffer) => {
      buffered += bytes.toString('latin1');
      for (let end = buffered.indexOf('\r\n'); end !== -1; end = buffered.indexOf('\r\n')) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        receivedLines.push(line);
        script.onLine?.(line, session);
      }
    });
    script.onConnect(session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The scripted server has no TCP address.');
  return {
    host: '127.0.0.1',
    port: address.port,
    receivedLines,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
