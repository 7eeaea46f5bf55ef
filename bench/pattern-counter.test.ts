import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PatternCounter } from './pattern-counter';

const TERMINATOR = Buffer.from('\r\n.\r\n');

function countWhole(data: Buffer): number {
  let count = 0;
  for (let at = data.indexOf(TERMINATOR); at >= 0; at = data.indexOf(TERMINATOR, at + 1)) count += 1;
  return count;
}

describe('the floor counts POP3 response ends however TLS cuts the stream', () => {
  it('counts every CRLF.CRLF exactly once, for any chunking, down to single bytes', () => {
    const responses = Buffer.from('+OK 3 octets\r\nabc\r\n.\r\n+OK\r\n..dot-stuffed\r\n.\r\n+OK\r\n\r\n.\r\n');
    const oneByteAtATime = new PatternCounter(TERMINATOR);
    for (const byte of responses) oneByteAtATime.feed(Buffer.from([byte]));
    expect(oneByteAtATime.count).toBe(3);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('\r', '\n', '.', 'a', '\r\n.\r\n'), { maxLength: 60 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 30 }),
        (pieces, cuts) => {
          const data = Buffer.from(pieces.join(''));
          const counter = new PatternCounter(TERMINATOR);
          let offset = 0;
          for (let index = 0; offset < data.length; index += 1) {
            const size = cuts[index % cuts.length];
            counter.feed(data.subarray(offset, offset + size));
            offset += size;
          }
          expect(counter.count).toBe(countWhole(data));
        },
      ),
    );
  });
});
