import { describe, expect, it } from 'vitest';
import { decideExternalOpen, decideFrameNavigation } from './navigation-policy';
import { isRendererRequestAllowed } from './request-policy';

describe('links leaving the app', () => {
  it('hands plain http(s) links to the system browser', () => {
    expect(decideExternalOpen('https://example.org/privacy')).toBe('open-external');
    expect(decideExternalOpen('http://example.org')).toBe('open-external');
  });

  it('never hands file:, javascript:, data:, custom schemes or junk to the OS', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'smb://server/share',
      'ms-msdt:/id PCWDiagnostic',
      'vscode://file/x',
      'app://whereabouts/index.html',
      'mailto:someone@example.org',
      'not a url',
      '',
      'https:',
    ]) {
      expect(decideExternalOpen(url), url).toBe('deny');
    }
  });

  it('refuses links with credentials in them (a phishing device)', () => {
    expect(decideExternalOpen('https://bank.example@evil.example/')).toBe('deny');
    expect(decideExternalOpen('https://user:pass@example.org/')).toBe('deny');
  });

  it('lets sub-frames hold only inline documents', () => {
    expect(decideFrameNavigation('about:srcdoc')).toBe('allow');
    expect(decideFrameNavigation('about:blank')).toBe('allow');
    expect(decideFrameNavigation('https://example.org/')).toBe('open-external');
    expect(decideFrameNavigation('file:///etc/passwd')).toBe('deny');
  });
});

describe('requests from the renderer', () => {
  it('allows only the app itself and inline data', () => {
    expect(isRendererRequestAllowed('app://whereabouts/assets/index.js')).toBe(true);
    expect(isRendererRequestAllowed('data:image/png;base64,AAAA')).toBe(true);
    expect(isRendererRequestAllowed('blob:app://whereabouts/1234')).toBe(true);
  });

  it('cancels the network and the file system', () => {
    for (const url of [
      'https://tracker.example/pixel.gif',
      'http://127.0.0.1:8080/',
      'wss://example.org/',
      'file:///etc/passwd',
      'ftp://x/',
    ]) {
      expect(isRendererRequestAllowed(url), url).toBe(false);
    }
  });
});
