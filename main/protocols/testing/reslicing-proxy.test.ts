/**
 * The proxy is only worth something if a client really sees the slices as separate reads (and not
 * coalesced by the kernel), the bytes arrive unchanged, and a cut happens exactly at byte N.
 */
import { connect, createServer, type Server } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startReslicingProxy, type ReslicingProxy, type Slicing } from './reslicing-proxy';

const payload = randomBytes(20_000);
const opened: Array<ReslicingProxy | Server> = [];

afterEach(async () => {
  for (const item of opened.splice(0)) {
    if ('serverWrites' in item) await item.close();
    else await new Promise<void>((resolve) => item.close(() => resolve()));
  }
});

/** An origin that records what it got and answers with `payload` after the first client bytes. */
async function startOrigin(received: Buffer[]): Promise<number> {
  const origin = createServer((socket) => {
    socket.once('data', (bytes: Buffer) => {
      received.push(bytes);
      socket.end(payload);
    });
  });
  opened.push(origin);
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  return (origin.address() as { port: number }).port;
}

/** Sends a request through a proxy and returns the sizes of the reads the client saw. */
async function readThrough(
  slicing: Slicing,
  cutAfterServerBytes?: number,
): Promise<{ reads: number[]; bytes: Buffer; request: Buffer[]; recorded: Buffer }> {
  const request: Buffer[] = [];
  const port = await startOrigin(request);
  const proxy = await startReslicingProxy({ targetHost: '127.0.0.1', targetPort: port, slicing, cutAfterServerBytes });
  opened.push(proxy);
  const socket = connect(proxy.port, proxy.host);
  socket.on('error', () => undefined); // a cut may surface as ECONNRESET; 'close' ends the read either way
  const reads: number[] = [];
  const chunks: Buffer[] = [];
  socket.on('data', (bytes: Buffer) => {
    reads.push(bytes.length);
    chunks.push(bytes);
  });
  socket.write('HELLO\r\n');
  await new Promise((resolve) => socket.on('close', resolve));
  return { reads, bytes: Buffer.concat(chunks), request, recorded: proxy.clientBytes() };
}

describe('re-slicing proxy', () => {
  it('delivers server bytes unchanged as 1-byte reads, and client bytes untouched and recorded', async () => {
    const { reads, bytes, request, recorded } = await readThrough({ kind: 'fixed', size: 1 });
    expect(bytes.equals(payload)).toBe(true);
    // Almost every read is a single byte (the kernel may rarely merge two).
    expect(reads.filter((size) => size === 1).length).toBeGreaterThan(payload.length * 0.95);
    expect(Buffer.concat(request).toString()).toBe('HELLO\r\n');
    expect(recorded.toString()).toBe('HELLO\r\n');
  });

  it('slices at random sizes, reproducibly for a seed', async () => {
    const slicing: Slicing = { kind: 'random', seed: 42, maximumSize: 500 };
    const first = await readThrough(slicing);
    const second = await readThrough(slicing);
    expect(first.bytes.equals(payload)).toBe(true);
    expect(first.reads.length).toBeGreaterThan(40);
    expect(Math.max(...first.reads)).toBeLessThanOrEqual(500);
    expect(second.reads).toEqual(first.reads);
  });

  it('cuts the connection after exactly N server bytes', async () => {
    const { bytes } = await readThrough({ kind: 'none' }, 12_345);
    expect(bytes.equals(payload.subarray(0, 12_345))).toBe(true);
  });
});
