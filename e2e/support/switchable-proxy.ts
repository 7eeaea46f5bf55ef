/**
 * A loopback TCP proxy in front of a real server that a test can switch off and on, to make the
 * network go away and come back (the real servers will not do that on request). Off means the
 * listening port is closed and every open connection is cut, exactly as a lost network looks to
 * the client: its connection drops and a new one is refused. On listens again on the same port.
 */
import net from 'node:net';

export interface SwitchableProxy {
  /** The port on 127.0.0.1 the client connects to; the same across off and on. */
  port: number;
  off(): Promise<void>;
  on(): Promise<void>;
  close(): Promise<void>;
}

export async function startSwitchableProxy(target: { host: string; port: number }): Promise<SwitchableProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;

  const listen = async (): Promise<void> => {
    const created = net.createServer((client) => {
      const upstream = net.connect(target);
      sockets.add(client);
      sockets.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const cut = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', cut);
      upstream.on('error', cut);
      client.on('close', cut);
      upstream.on('close', cut);
    });
    await new Promise<void>((resolve, reject) => {
      created.once('error', reject);
      created.listen(port, '127.0.0.1', () => resolve());
    });
    port = (created.address() as net.AddressInfo).port;
    server = created;
  };

  const off = async (): Promise<void> => {
    const current = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (current !== null) await new Promise<void>((resolve) => current.close(() => resolve()));
  };

  await listen();
  return {
    get port() {
      return port;
    },
    off,
    on: async () => {
      if (server === null) await listen();
    },
    close: off,
  };
}
