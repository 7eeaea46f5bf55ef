/**
 * A loopback TCP proxy in front of a real server that passes the server's bytes to the client at a
 * limited rate, so that a sync of a few hundred messages lasts long enough for a person (or a test)
 * to press Cancel while it runs. `setRate(Infinity)` lifts the limit. Bytes are passed unchanged
 * (TLS goes through end to end).
 */
import net from 'node:net';

export interface ThrottledProxy {
  /** The port on 127.0.0.1 the client connects to. */
  port: number;
  /** Bytes per second from the server to the client; Infinity for no limit. */
  setRate(bytesPerSecond: number): void;
  close(): Promise<void>;
}

const TICK_MS = 50;
/** Server bytes held back before the server side is paused. */
const HIGH_WATER = 256 * 1024;

export async function startThrottledProxy(
  target: { host: string; port: number },
  bytesPerSecond: number,
): Promise<ThrottledProxy> {
  let rate = bytesPerSecond;
  const cuts = new Set<() => void>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    client.pipe(upstream);
    const queue: Buffer[] = [];
    let queued = 0;
    const tick = setInterval(() => {
      let budget = rate === Infinity ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor((rate * TICK_MS) / 1000));
      while (queue.length > 0 && budget > 0) {
        const head = queue[0];
        const part = head.length <= budget ? head : head.subarray(0, budget);
        client.write(part);
        budget -= part.length;
        queued -= part.length;
        if (part === head) queue.shift();
        else queue[0] = head.subarray(part.length);
      }
      if (queued < HIGH_WATER && upstream.isPaused()) upstream.resume();
    }, TICK_MS);
    upstream.on('data', (chunk: Buffer) => {
      queue.push(chunk);
      queued += chunk.length;
      if (queued >= HIGH_WATER) upstream.pause();
    });
    const cut = (): void => {
      clearInterval(tick);
      client.destroy();
      upstream.destroy();
      cuts.delete(cut);
    };
    cuts.add(cut);
    client.on('error', cut);
    upstream.on('error', cut);
    client.on('close', cut);
    upstream.on('close', () => {
      // Whatever the server sent before closing still goes out, then the client is closed too.
      const drain = setInterval(() => {
        if (queue.length === 0 || client.destroyed) {
          clearInterval(drain);
          cut();
        }
      }, TICK_MS);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    setRate(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    async close() {
      for (const cut of [...cuts]) cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
