/**
 * A loopback TCP proxy for tests. Client → server bytes pass untouched (and are recorded, so a
 * test can prove what a client did or did not send); server → client bytes are re-sliced into
 * 1-byte writes or seeded random sizes, to prove that a protocol reader copes with any split of
 * the stream. It only moves bytes, so it works as well for TLS (then the TLS records get split).
 * It can also cut the connection after N server bytes, for fault tests.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Slicing =
  | { kind: 'none' }
  /** Every server byte written on its own. */
  | { kind: 'fixed'; size: number }
  /** Writes of 1…maximumSize bytes, sizes from a seeded generator (reproducible). */
  | { kind: 'random'; seed: number; maximumSize: number };

export interface ReslicingProxyOptions {
  targetHost: string;
  targetPort: number;
  slicing: Slicing;
  /** Close both sides once this many server → client bytes were forwarded (per connection). */
  cutAfterServerBytes?: number;
}

export interface ReslicingProxy {
  host: string;
  port: number;
  /** Everything clients sent, all connections in order of arrival. */
  clientBytes(): Buffer;
  /** How many separate writes carried server bytes to clients. */
  readonly serverWrites: number;
  close(): Promise<void>;
}

/** mulberry32: a tiny seeded generator; quality is ample for picking slice sizes. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Writes one slice in its own event-loop turn. Written back to back, slices would pile up in the
 * receiver's kernel buffer and be read as one chunk. Each write here happens in the check phase
 * (setImmediate) of a later turn than the one before, so a poll phase lies between any two writes
 * and a client in this same process (the tests) reads every slice on its own.
 */
async function writeAsync(socket: Socket, bytes: Buffer): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (!socket.writable) throw new Error('The client went away.');
  await new Promise<void>((resolve, reject) => {
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

export async function startReslicingProxy(options: ReslicingProxyOptions): Promise<ReslicingProxy> {
  const recorded: Buffer[] = [];
  const sockets = new Set<Socket>();
  let serverWrites = 0;
  let connectionCount = 0;

  const server: Server = createServer((client) => {
    const random = options.slicing.kind === 'random' ? seededRandom(options.slicing.seed + connectionCount) : () => 0;
    connectionCount += 1;
    const upstream = connect({ host: options.targetHost, port: options.targetPort });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true); // each slice leaves as its own segment
    upstream.setNoDelay(true);
    let forwarded = 0;
    let queue: Promise<void> = Promise.resolve();

    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', () => {
      closeBoth();
      sockets.delete(client);
      sockets.delete(upstream);
    });
    upstream.on('close', () => {
      // Let queued slices reach the client before it sees the end.
      void queue.then(() => {
        if (client.writable) client.end();
      });
    });

    client.on('data', (bytes: Buffer) => {
      recorded.push(Buffer.from(bytes));
      upstream.write(bytes);
    });

    upstream.on('data', (bytes: Buffer) => {
      upstream.pause();
      // The queue never rejects: a failed write closes both sides and ends the forwarding.
      queue = queue.then(async () => {
        try {
          await forward(bytes);
          upstream.resume();
        } catch {
          closeBoth();
        }
      });
    });

    const forward = async (bytes: Buffer): Promise<void> => {
      let position = 0;
      while (position < bytes.length && client.writable) {
        let size = bytes.length - position;
        if (options.slicing.kind === 'fixed') size = options.slicing.size;
        if (options.slicing.kind === 'random') size = 1 + Math.floor(random() * options.slicing.maximumSize);
        if (options.cutAfterServerBytes !== undefined) size = Math.min(size, options.cutAfterServerBytes - forwarded);
        const slice = bytes.subarray(position, position + size);
        if (slice.length > 0) {
          serverWrites += 1;
          await writeAsync(client, slice);
        }
        position += slice.length;
        forwarded += slice.length;
        if (options.cutAfterServerBytes !== undefined && forwarded >= options.cutAfterServerBytes) {
          closeBoth();
          return;
        }
      }
    };
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The proxy has no TCP address.');

  return {
    host: '127.0.0.1',
    port: address.port,
    clientBytes: () => Buffer.concat(recorded),
    get serverWrites() {
      return serverWrites;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
