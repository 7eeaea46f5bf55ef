import { describe, expect, it } from 'vitest';
import { parseCapabilities, parseNumberPair, parseUidLine, responseCode } from './pop3-responses';
import { apopDigest, greetingTimestamp, plainMechanism } from './sasl';

describe('POP3 answers', () => {
  it('reads the RFC 2449 §6 capabilities, case-insensitively', () => {
    const capabilities = parseCapabilities(
      Buffer.from(
        'TOP\r\nuser\r\nSASL plain XOAUTH2\r\nRESP-CODES\r\nLOGIN-DELAY 900\r\nPIPELINING\r\nEXPIRE NEVER\r\nUIDL\r\nIMPLEMENTATION Shlemazle-Plotz-v302\r\n',
      ),
    );
    expect(capabilities).toMatchObject({
      known: true,
      stls: false,
      pipelining: true,
      top: true,
      uidl: true,
      user: true,
      responseCodes: true,
      saslMechanisms: ['PLAIN', 'XOAUTH2'],
      loginDelaySeconds: 900,
      expireDays: 'never',
    });
    expect(parseCapabilities(Buffer.from('STLS\r\nEXPIRE 31\r\n'))).toMatchObject({ stls: true, expireDays: 31 });
  });

  it('knows nothing when the server has no CAPA', () => {
    expect(parseCapabilities(null)).toMatchObject({ known: false, stls: false, pipelining: false, saslMechanisms: [] });
  });

  it('reads response codes (RFC 2449 §8)', () => {
    expect(responseCode('[IN-USE] Mailbox is locked')).toBe('IN-USE');
    expect(responseCode('[sys/temp] try later')).toBe('SYS/TEMP');
    expect(responseCode('no code here [AUTH]')).toBeNull();
  });

  it('refuses malformed LIST/STAT/UIDL data instead of guessing', () => {
    expect(parseNumberPair('3 1205 extra', 'LIST line')).toEqual([3, 1205]);
    expect(() => parseNumberPair('3 -1', 'LIST line')).toThrow(/unreadable LIST line/);
    expect(() => parseNumberPair('99999999999999999999 1', 'LIST line')).toThrow(/unreadable/);
    expect(parseUidLine('1 whqtswO00WBw418f9t5JxYwZ')).toEqual({ number: 1, uid: 'whqtswO00WBw418f9t5JxYwZ' });
    expect(() => parseUidLine('1 has space')).toThrow(/unreadable UIDL/);
    expect(() => parseUidLine(`1 ${'x'.repeat(71)}`)).toThrow(/unreadable UIDL/);
  });
});

describe('POP3 login mechanisms', () => {
  it('computes the APOP digest of RFC 1939 §7’s example', () => {
    const timestamp = greetingTimestamp('POP3 server ready <1896.697170952@dbc.mtview.ca.us>');
    expect(timestamp).toBe('<1896.697170952@dbc.mtview.ca.us>');
    expect(apopDigest(timestamp as string, 'tanstaaf')).toBe('c4c9334bac560ecc979e58001b3e22fb');
    expect(greetingTimestamp('Dovecot ready.')).toBeUndefined();
  });

  it('encodes SASL PLAIN as RFC 4616 §4’s example', async () => {
    expect(await plainMechanism('tim', 'tanstaaftanstaaf').initialResponse()).toBe('AHRpbQB0YW5zdGFhZnRhbnN0YWFm');
  });
});
