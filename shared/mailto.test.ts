import { describe, expect, it } from 'vitest';
import { parseMailto } from './mailto';

describe('mailto: URLs (RFC 6068)', () => {
  it('reads recipients, subject and body, percent-decoded', () => {
    expect(
      parseMailto(
        'mailto:ada@example.org,bob@example.org?cc=carol%40example.org&subject=Hello%20there&body=Line%201%0D%0ALine%202',
      ),
    ).toEqual({
      to: ['ada@example.org', 'bob@example.org'],
      cc: ['carol@example.org'],
      bcc: [],
      subject: 'Hello there',
      body: 'Line 1\nLine 2',
    });
  });

  it('keeps a literal plus sign and ignores other headers (RFC 6068 section 7)', () => {
    const draft = parseMailto(
      'MAILTO:?to=list+tag@example.org&In-Reply-To=%3Cx%40y%3E&X-Evil=1&bcc=hidden@example.org',
    );
    expect(draft).toEqual({ to: ['list+tag@example.org'], cc: [], bcc: ['hidden@example.org'], subject: '', body: '' });
  });

  it('never lets a header break into another line, and refuses what is not mailto', () => {
    expect(parseMailto('mailto:a@example.org?subject=Hi%0D%0ABcc:%20victim@example.org')?.subject).toBe(
      'Hi Bcc: victim@example.org',
    );
    expect(parseMailto('mailto:a@example.org%0D%0Ab@example.org')?.to).toEqual([]);
    expect(parseMailto('https://example.org')).toBeNull();
    expect(parseMailto(`mailto:${'a'.repeat(70_000)}`)).toBeNull();
  });
});
