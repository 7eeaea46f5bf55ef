import { describe, expect, it } from 'vitest';
import { hostShownInText, isDeceptiveLink } from './link-check';
import { classifyResourceUrl, frameContentSecurityPolicy, safeLinkTarget } from './sanitize';

describe('deceptive links', () => {
  it('are links whose text shows another host than the target', () => {
    expect(isDeceptiveLink('https://www.bank.example/login', 'https://bank.evil.example/login')).toBe(true);
    expect(isDeceptiveLink('bank.example', 'https://bank.example.evil.test/')).toBe(true);
  });

  it('are not links to the shown host, its parent or a subdomain', () => {
    expect(isDeceptiveLink('www.example.org', 'https://example.org/x')).toBe(false);
    expect(isDeceptiveLink('example.org', 'https://mail.example.org/')).toBe(false);
    expect(isDeceptiveLink('Read more', 'https://tracker.example/')).toBe(false);
  });

  it('do not mistake file names or mail addresses in the text for hosts', () => {
    expect(hostShownInText('report.pdf')).toBeNull();
    expect(hostShownInText('write to help@bank.example')).toBeNull();
    expect(hostShownInText('www.report.pdf')).toBe('report.pdf');
  });
});

describe('resource URLs in mail', () => {
  it('allow only absolute http(s) and inline images', () => {
    expect(classifyResourceUrl(' https://cdn.example/a.png')).toEqual({
      kind: 'remote',
      url: 'https://cdn.example/a.png',
    });
    expect(classifyResourceUrl('data:image/png;base64,AAAA')).toEqual({ kind: 'inline' });
    for (const refused of [
      '/relative.png',
      '//evil.example/x.png',
      'javascript:alert(1)',
      'data:text/html,<script>',
      'data:image/svg+xml,<svg/>',
      'cid:part1@x',
      'https://evil.example/?secret=\n<p>swallowed</p>',
      'file:///etc/passwd',
    ]) {
      expect(classifyResourceUrl(refused), refused).toEqual({ kind: 'refused' });
    }
  });

  it('offer links only to web pages and mail addresses', () => {
    expect(safeLinkTarget(' https://example.org/a ')).toBe('https://example.org/a');
    expect(safeLinkTarget('mailto:a@b.org')).toBe('mailto:a@b.org');
    expect(safeLinkTarget('javascript:alert(1)')).toBeNull();
    expect(safeLinkTarget('relative/page')).toBeNull();
  });

  it('give the frame a policy that loads nothing but inline styles and data: images', () => {
    expect(frameContentSecurityPolicy()).toBe(
      "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'",
    );
  });
});
