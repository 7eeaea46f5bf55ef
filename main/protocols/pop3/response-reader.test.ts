import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  encodeMultiLineBody,
  normalizeForTransport,
  Pop3ProtocolError,
  Pop3ResponseReader,
  type ReaderEvent,
  type ResponseExpectation,
  type StatusLine,
} from './response-reader';

interface DecodedResponse {
  status: StatusLine;
  body: Buffer | null;
}

/** Runs the reader over `chunks` with the given expectations and gathers whole responses. */
function decode(expectations: ResponseExpectation[], chunks: Buffer[]): DecodedResponse[] {
  const reader = new Pop3ResponseReader();
  const events: ReaderEvent[] = [];
  for (const expectation of expectations) events.push(...reader.expect(expectation));
  for (const chunk of chunks) events.push(...reader.push(chunk));
  const responses: DecodedResponse[] = [];
  let bodyParts: Buffer[] | null = null;
  for (const event of events) {
    if (event.type === 'status') {
      if (event.bodyFollows) {
        bodyParts = [];
        responses.push({ status: event.status, body: null });
      } else {
        responses.push({ status: event.status, body: null });
      }
    } else if (event.type === 'body') {
      if (bodyParts === null) throw new Error('body outside a multi-line response');
      bodyParts.push(Buffer.from(event.data));
    } else {
      if (bodyParts === null) throw new Error('end outside a multi-line response');
      responses[responses.length - 1].body = Buffer.concat(bodyParts);
      bodyParts = null;
    }
  }
  if (bodyParts !== null) responses.pop(); // unfinished body: not a response yet
  return responses;
}

function sliceEvery(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += size) chunks.push(bytes.subarray(start, start + size));
  return chunks;
}

function sliceAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let previous = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(previous, point));
    previous = point;
  }
  return chunks;
}

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1');

describe('Pop3ResponseReader: status lines', () => {
  it('reads +OK, -ERR and SASL continuation lines with their text', () => {
    const responses = decode(
      ['single-line', 'single-line', 'single-line', 'single-line'],
      [ascii('+OK Dovecot ready.\r\n-ERR [IN-USE] Mailbox is locked\r\n+ \r\n+OK\r\n')],
    );
    expect(responses.map((response) => response.status)).toEqual([
      { kind: 'ok', text: 'Dovecot ready.' },
      { kind: 'error', text: '[IN-USE] Mailbox is locked' },
      { kind: 'continuation', text: '' },
      { kind: 'ok', text: '' },
    ]);
  });

  it('assembles a status line delivered one byte at a time', () => {
    const responses = decode(['single-line'], sliceEvery(ascii('+OK 2 320\r\n'), 1));
    expect(responses).toEqual([{ status: { kind: 'ok', text: '2 320' }, body: null }]);
  });

  it('rejects a peer that is not a POP3 server', () => {
    const reader = new Pop3ResponseReader();
    reader.expect('single-line');
    expect(() => reader.push(ascii('* OK IMAP4rev1 ready\r\n'))).toThrow(Pop3ProtocolError);
  });

  it('gives up on an endless status line instead of buffering without limit', () => {
    const reader = new Pop3ResponseReader();
    reader.expect('single-line');
    expect(() => reader.push(Buffer.alloc(70 * 1024, 0x41))).toThrow(/longer than/);
  });

  it('keeps bytes that arrive before anything was asked, and can discard them (STLS injection)', () => {
    const reader = new Pop3ResponseReader();
    expect(reader.push(ascii('+OK injected\r\n'))).toEqual([]);
    expect(reader.bufferedByteCount).toBe(14);
    reader.discardBuffered();
    expect(reader.expect('single-line')).toEqual([]);
    expect(reader.push(ascii('+OK real\r\n'))).toEqual([
      { type: 'status', status: { kind: 'ok', text: 'real' }, bodyFollows: false },
    ]);
  });
});

describe('Pop3ResponseReader: multi-line bodies (RFC 1939 §3)', () => {
  it('undoes dot-stuffing and keeps every CRLF, the final one included', () => {
    const wire = ascii('+OK 5 octets\r\nSubject: x\r\n\r\n..\r\n...hidden\r\n.start\r\nend\r\n.\r\n');
    const [response] = decode(['multi-line'], [wire]);
    expect(response.body?.toString('latin1')).toBe('Subject: x\r\n\r\n.\r\n..hidden\r\nstart\r\nend\r\n');
  });

  it('reads an empty body and a body whose first line is a single dot', () => {
    expect(decode(['multi-line'], [ascii('+OK\r\n.\r\n')])[0].body).toEqual(Buffer.alloc(0));
    expect(decode(['multi-line'], [ascii('+OK\r\n..\r\n.\r\n')])[0].body?.toString()).toBe('.\r\n');
  });

  it('returns 8-bit and invalid UTF-8 bytes unchanged', () => {
    const body = Buffer.from([0x48, 0xe9, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x0d, 0x0a]);
    const wire = Buffer.concat([ascii('+OK\r\n'), encodeMultiLineBody(body)]);
    expect(decode(['multi-line'], sliceEvery(wire, 1))[0].body).toEqual(body);
  });

  it('finds the terminator wherever the reads split it', () => {
    const wire = ascii('+OK\r\nline one\r\n..\r\nlast\r\n.\r\n');
    for (let first = 0; first <= wire.length; first += 1) {
      for (let second = first; second <= wire.length; second += 1) {
        const chunks = [wire.subarray(0, first), wire.subarray(first, second), wire.subarray(second)];
        const responses = decode(['multi-line'], chunks);
        expect(responses, `cut at ${first}/${second}`).toHaveLength(1);
        expect(responses[0].body?.toString()).toBe('line one\r\n.\r\nlast\r\n');
      }
    }
  });

  it('does not end the body when a read is just "." (node-pop3 truncates here)', () => {
    const chunks = ['+OK\r\nfirst\r\n', '.', '.x\r\nsecond\r\n', '.', '\r', '\n'].map(ascii);
    expect(decode(['multi-line'], chunks)[0].body?.toString()).toBe('first\r\n.x\r\nsecond\r\n');
  });

  it('treats "-ERR" to a multi-line command as a single line', () => {
    const responses = decode(['multi-line', 'single-line'], [ascii('-ERR no such message\r\n+OK\r\n')]);
    expect(responses).toEqual([
      { status: { kind: 'error', text: 'no such message' }, body: null },
      { status: { kind: 'ok', text: '' }, body: null },
    ]);
  });

  it('separates pipelined responses that share one read (RFC 2449 PIPELINING)', () => {
    const wire = Buffer.concat([
      ascii('+OK 3 octets\r\n'),
      encodeMultiLineBody(ascii('a\r\n')),
      ascii('+OK\r\n'),
      encodeMultiLineBody(ascii('.\r\n')),
      ascii('+OK deleted\r\n'),
    ]);
    const responses = decode(['multi-line', 'multi-line', 'single-line'], [wire]);
    expect(responses.map((response) => response.body?.toString() ?? null)).toEqual(['a\r\n', '.\r\n', null]);
    expect(responses[2].status.text).toBe('deleted');
  });

  it('hands a large body out in slices of the reads, without per-line copies', () => {
    const body = Buffer.from(`${'x'.repeat(76)}\r\n`.repeat(20_000)); // ~1.5 MB of base64-like lines
    const wire = Buffer.concat([ascii('+OK\r\n'), encodeMultiLineBody(body)]);
    const reader = new Pop3ResponseReader();
    reader.expect('multi-line');
    const chunks = sliceEvery(wire, 64 * 1024);
    const events = chunks.flatMap((chunk) => reader.push(chunk));
    const bodyEvents = events.filter((event) => event.type === 'body');
    expect(bodyEvents.length).toBeLessThanOrEqual(chunks.length + 1);
    const decoded = Buffer.concat(bodyEvents.map((event) => (event.type === 'body' ? event.data : Buffer.alloc(0))));
    // Buffer.equals, not toEqual: a byte-by-byte deep comparison of 1.5 MB takes seconds.
    expect(decoded.equals(body)).toBe(true);
  });

  it('survives the 64 KiB and 128 KiB boundaries where node-pop3 hangs', () => {
    for (const size of [65_534, 65_535, 65_536, 65_537, 131_070, 131_071, 131_072, 131_073]) {
      const body = Buffer.concat([Buffer.alloc(size - 2, 0x61), ascii('\r\n')]);
      const wire = Buffer.concat([ascii('+OK\r\n'), encodeMultiLineBody(body)]);
      for (const cut of [wire.length - 5, wire.length - 4, wire.length - 3, wire.length - 2, wire.length - 1]) {
        const responses = decode(['multi-line'], [wire.subarray(0, cut), wire.subarray(cut)]);
        expect(responses[0]?.body?.length, `size ${size}, cut ${cut}`).toBe(size);
      }
    }
  });
});

/** Bytes rich in the octets that matter to the framing. */
const messageBytes = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(0x2e, 0x0d, 0x0a) },
      { weight: 2, arbitrary: fc.constant('\r\n.') },
      { weight: 1, arbitrary: fc.constant('\r\n.\r\n') },
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    { maxLength: 300 },
  )
  .map((parts) =>
    Buffer.concat(parts.map((part) => (typeof part === 'number' ? Buffer.from([part]) : Buffer.from(part, 'latin1')))),
  );

describe('Pop3ResponseReader: property', () => {
  it('decode(encode(bytes)) is the bytes (with the CRLF POP3 adds) for any slicing', () => {
    fc.assert(
      fc.property(
        fc.array(messageBytes, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (bodies, cuts) => {
          const wire = Buffer.concat(bodies.flatMap((body) => [ascii('+OK\r\n'), encodeMultiLineBody(body)]));
          const responses = decode(
            bodies.map(() => 'multi-line'),
            sliceAt(wire, cuts),
          );
          expect(responses.map((response) => response.body)).toEqual(bodies.map(normalizeForTransport));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('decodes the same when every byte arrives alone', () => {
    fc.assert(
      fc.property(messageBytes, (body) => {
        const wire = Buffer.concat([ascii('+OK\r\n'), encodeMultiLineBody(body), ascii('+OK after\r\n')]);
        const responses = decode(['multi-line', 'single-line'], sliceEvery(wire, 1));
        expect(responses[0].body).toEqual(normalizeForTransport(body));
        expect(responses[1].status).toEqual({ kind: 'ok', text: 'after' });
      }),
      { numRuns: 300 },
    );
  });
});
