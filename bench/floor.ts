/**
 * The loopback floor: the same bytes streamed from the same server over the same implicit-TLS port,
 * with no parsing and nothing stored — only a scan for the end of the response. Nothing that parses,
 * indexes or writes can be faster, so it shows how much of a contender's time is the server and TLS.
 *
 * The disk floor (`maildir-write`): the same messages, read from the server's own Maildir, written
 * as a Maildir durably, as the store writes a batch (maildir-batch.ts) and as mbsync does with
 * per-message fsync: tmp/ → write → fsync → close → rename into cur/, eight files at a time, and one
 * fsync of cur/ per 4 MiB. No network, no parsing, no index: what durably storing the messages as
 * files costs on this disk by itself.
 *
 * Run as its own process (bundled to plain JavaScript first, like the contenders, so it pays Node's
 * start-up and no TypeScript loader):
 *   node floor.cjs imap-bodies|imap-headers|pop3 HOST PORT USER   (password in BENCH_FLOOR_PASSWORD)
 *   node floor.cjs maildir-write SOURCE_MAILDIR TARGET_DIR
 * Prints one line of JSON: { bytes, messages }.
 */
import * as fs from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { PatternCounter } from './pattern-counter';

type Mode = 'imap-bodies' | 'imap-headers' | 'pop3' | 'maildir-write';

/** Files written at once, and bytes per directory fsync: those of the store's batches. */
const WRITE_CONCURRENCY = 8;
const BYTES_PER_DIRECTORY_SYNC = 4 * 1024 * 1024;

/** Nothing on loopback takes this long; a hang is reported instead of stalling the benchmark. */
const FLOOR_TIMEOUT_MS = 180_000;
/** A tag no message line of the corpus starts with, so "\r\nTAG " marks the tagged completion (RFC 3501 §2.2.2). */
const FETCH_TAG = 'Zf9';
/** What the header-only sync asks for (RFC 3501 §6.4.5): the envelope, flags, size and arrival date. */
const HEADER_ITEMS =
  'UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODY.PEEK[HEADER.FIELDS (Message-ID In-Reply-To References Content-Type List-Id)]';

function connect(host: string, port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername: undefined }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Reads until `done(text so far)` holds, for the short command/response exchanges before the bulk. */
function readUntil(socket: tls.TLSSocket, done: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (done(text)) {
        socket.off('data', onData);
        socket.off('error', reject);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

function quoted(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

async function imap(
  host: string,
  port: number,
  user: string,
  password: string,
  headersOnly: boolean,
): Promise<{ bytes: number; messages: number }> {
  const socket = await connect(host, port);
  await readUntil(socket, (text) => text.includes('\r\n'));
  socket.write(`a LOGIN ${quoted(user)} ${quoted(password)}\r\n`);
  const login = await readUntil(socket, (text) => /^a (OK|NO|BAD)/m.test(text));
  if (!/^a OK/m.test(login)) throw new Error(`login failed: ${login}`);
  socket.write('b EXAMINE INBOX\r\n');
  const selected = await readUntil(socket, (text) => /^b (OK|NO|BAD)/m.test(text));
  const messages = Number(/^\* (\d+) EXISTS/m.exec(selected)?.[1] ?? 0);
  const ending = Buffer.from(`\r\n${FETCH_TAG} `);
  const counter = new PatternCounter(ending);
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      counter.feed(chunk);
      if (counter.count > 0) resolve();
    });
    setTimeout(
      () => reject(new Error(`no end of the FETCH after ${FLOOR_TIMEOUT_MS} ms (${bytes} bytes)`)),
      FLOOR_TIMEOUT_MS,
    ).unref();
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('the server closed the connection during FETCH')));
    socket.write(`${FETCH_TAG} UID FETCH 1:* ${headersOnly ? `(${HEADER_ITEMS})` : 'BODY.PEEK[]'}\r\n`);
  });
  socket.removeAllListeners('close');
  socket.end('c LOGOUT\r\n');
  return { bytes, messages };
}

async function pop3(
  host: string,
  port: number,
  user: string,
  password: string,
): Promise<{ bytes: number; messages: number }> {
  const socket = await connect(host, port);
  await readUntil(socket, (text) => text.includes('\r\n'));
  socket.write(`USER ${user}\r\n`);
  await readUntil(socket, (text) => text.includes('\r\n'));
  socket.write(`PASS ${password}\r\n`);
  const login = await readUntil(socket, (text) => text.includes('\r\n'));
  if (!login.startsWith('+OK')) throw new Error(`login failed: ${login}`);
  socket.write('STAT\r\n');
  const stat = await readUntil(socket, (text) => text.includes('\r\n'));
  const messages = Number(/^\+OK (\d+)/.exec(stat)?.[1] ?? 0);
  // RFC 2449 §6.6 PIPELINING (Dovecot offers it): every RETR at once; each multi-line response ends
  // with CRLF.CRLF, which dot-stuffing (RFC 1939 §3) keeps out of the message data.
  const counter = new PatternCounter(Buffer.from('\r\n.\r\n'));
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      counter.feed(chunk);
      if (counter.count >= messages) resolve();
    });
    setTimeout(
      () => reject(new Error(`${counter.count} of ${messages} RETR responses after ${FLOOR_TIMEOUT_MS} ms`)),
      FLOOR_TIMEOUT_MS,
    ).unref();
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('the server closed the connection during RETR')));
    const commands: string[] = [];
    for (let number = 1; number <= messages; number += 1) commands.push(`RETR ${number}\r\n`);
    socket.write(commands.join(''));
    if (messages === 0) resolve();
  });
  socket.removeAllListeners('close');
  socket.end('QUIT\r\n');
  return { bytes, messages };
}

/** fs's callback API, as the store's batch writes use it (cheaper per call than FileHandle). */
const fileCalls = {
  open: promisify(fs.open),
  write: promisify(fs.write),
  fsync: promisify(fs.fsync),
  close: promisify(fs.close),
  rename: promisify(fs.rename),
};

async function syncDirectory(directory: string): Promise<void> {
  const descriptor = await fileCalls.open(directory, 'r');
  try {
    await fileCalls.fsync(descriptor);
  } finally {
    await fileCalls.close(descriptor);
  }
}

async function maildirWrite(sourceMaildir: string, target: string): Promise<{ bytes: number; messages: number }> {
  const names = (await readdir(path.join(sourceMaildir, 'cur'))).sort();
  const sources = await Promise.all(names.map((name) => readFile(path.join(sourceMaildir, 'cur', name))));
  await rm(target, { recursive: true, force: true });
  for (const sub of ['tmp', 'new', 'cur']) await mkdir(path.join(target, sub), { recursive: true });
  let bytes = 0;
  let next = 0;
  const writeOne = async (index: number): Promise<void> => {
    const temporary = path.join(target, 'tmp', `${index}.floor`);
    const source = sources[index];
    const descriptor = await fileCalls.open(temporary, 'wx', 0o600);
    try {
      let written = 0;
      while (written < source.length) {
        written += (await fileCalls.write(descriptor, source, written, source.length - written, null)).bytesWritten;
      }
      await fileCalls.fsync(descriptor);
    } finally {
      await fileCalls.close(descriptor);
    }
    await fileCalls.rename(temporary, path.join(target, 'cur', `${index}.floor:2,`));
  };
  while (next < sources.length) {
    const batch: number[] = [];
    let batchBytes = 0;
    while (next < sources.length && (batch.length === 0 || batchBytes < BYTES_PER_DIRECTORY_SYNC)) {
      batch.push(next);
      batchBytes += sources[next].length;
      next += 1;
    }
    let taken = 0;
    const worker = async (): Promise<void> => {
      while (taken < batch.length) {
        const index = batch[taken];
        taken += 1;
        await writeOne(index);
      }
    };
    await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
    await syncDirectory(path.join(target, 'cur'));
    bytes += batchBytes;
  }
  return { bytes, messages: sources.length };
}

async function main(argv: readonly string[]): Promise<void> {
  const [mode, host, portText, user] = argv as [Mode, string, string, string];
  const password = process.env.BENCH_FLOOR_PASSWORD ?? '';
  const port = Number(portText);
  const result =
    mode === 'maildir-write'
      ? await maildirWrite(argv[1], argv[2])
      : mode === 'pop3'
        ? await pop3(host, port, user, password)
        : await imap(host, port, user, password, mode === 'imap-headers');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
