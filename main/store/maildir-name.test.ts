import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeUidl, encodeUidl, formatMaildirName, newMessageId, parseMaildirName } from './maildir-name';
import { buildFtsQuery } from './fts-query';

describe('Maildir names', () => {
  it('round-trips id, size, flags and both kinds of remote identity', () => {
    const id = newMessageId();
    const name = formatMaildirName({
      time: 1_700_000_000,
      id,
      host: 'mail/host:one,two',
      size: 1234,
      imap: { uidvalidity: 42, uid: 7 },
      popUidl: 'UID:with/odd,chars',
      flags: ['\\Seen', '\\Flagged', '$Forwarded', '\\Answered'],
    });
    expect(name).not.toContain('/');
    expect(name.split(':')).toHaveLength(2);
    expect(name.endsWith(':2,FPRS')).toBe(true);
    const parsed = parseMaildirName(name);
    expect(parsed).toMatchObject({
      time: 1_700_000_000,
      id,
      size: 1234,
      imap: { uidvalidity: 42, uid: 7 },
      popUidl: 'UID:with/odd,chars',
      flags: ['\\Flagged', '$Forwarded', '\\Answered', '\\Seen'],
    });
  });

  it('keeps any printable POP3 UIDL (RFC 1939: 0x21-0x7E, up to 70) reversibly in the name', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x7e]{1,70}$/), (uidl) => {
        const name = formatMaildirName({
          time: 1,
          id: newMessageId(),
          host: 'h',
          size: 1,
          imap: null,
          popUidl: uidl,
          flags: [],
        });
        expect(name.length).toBeLessThan(255);
        expect(parseMaildirName(name)?.popUidl).toBe(uidl);
      }),
    );
  });

  it('hashes an over-long UIDL instead of exceeding the file-name limit', () => {
    const long = 'x'.repeat(500);
    expect(decodeUidl(encodeUidl(long))).toBeNull();
    expect(encodeUidl(long).length).toBeLessThan(60);
  });

  it('refuses names of other tools, so they are renamed into ours', () => {
    expect(parseMaildirName('1700000000.M1P2Q3.host:2,S')).toBeNull();
    expect(parseMaildirName('.hidden')).toBeNull();
  });
});

describe('FTS query building', () => {
  it('quotes every term and makes the last one a prefix', () => {
    expect(buildFtsQuery('hello wor')).toBe('"hello" "wor"*');
    expect(buildFtsQuery('say "hi" NEAR(a b) OR x*')).toBe('"say" """hi""" "NEAR(a" "b)" "OR" "x*"*');
    expect(buildFtsQuery('  ( ) * " ')).toBeNull();
  });
});
