/**
 * The loopback floor: the same bytes streamed from the same server over the same implicit-TLS port,
 * with no parsing and nothing stored — only a scan for the end of the response. Nothing that parses,
 * indexes or writes can be faster, so it shows how much of a contender's time is the server and TLS.
 *
 * The disk and store floors, which store the messages, are in local-floors.ts.
 *
 * Run as its own process (bundled to plain JavaScript first, like the contenders, so it pays Node's
 * start-up and no TypeScript loader):
 *   node floor.cjs imap-bodies|imap-headers|pop3 HOST PORT USER   (password in BENCH_FLOOR_PASSWORD)
 * Prints one line of JSON: { bytes, messages }.
 */
import tls from 'node:tls';
import { PatternCounter } from './pattern-counter';

type Mode = 'imap-bodies' | 'imap-headers' | 'pop3';

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

async function main(argv: readonly string[]): Promise<void> {
  const [mode, host, portText, user] = argv as [Mode, string, string, string];
  const password = process.env.BENCH_FLOOR_PASSWORD ?? '';
  const port = Number(portText);
  const result =
    mode === 'pop3'
      ? await pop3(host, port, user, password)
      : await imap(host, port, user, password, mode === 'imap-headers');
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
