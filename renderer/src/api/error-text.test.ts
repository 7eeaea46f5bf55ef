import { describe, expect, it } from 'vitest';
import { ERROR_CODES, MailError } from '../../../shared/errors';
import { describeError } from './error-text';

describe('errors in words', () => {
  it('give every error code a sentence', () => {
    for (const code of ERROR_CODES) {
      const text = describeError(new MailError(code, `Service words for ${code}.`));
      expect(text.title.length, code).toBeGreaterThan(10);
      expect(text.title, code).toMatch(/^[A-Z“]/);
    }
  });

  it('name the server and port the service reported', () => {
    const text = describeError(new MailError('CONNECTION_REFUSED', 'x', { host: 'mail.example.org', port: 993 }));
    expect(text.title).toBe(
      'The connection to mail.example.org, port 993 was refused: nothing is accepting mail connections there.',
    );
    expect(text.advice).toBe('Check the server name and the port number.');
  });

  it('keep the service’s own sentence where it adds something, and the server’s words for a refused login', () => {
    expect(describeError(new MailError('INVALID_INPUT', 'The IMAP port must be a number.')).title).toBe(
      'The IMAP port must be a number.',
    );
    expect(describeError(new MailError('AUTH_FAILED', 'x', { serverText: '[AUTHENTICATIONFAILED] nope' })).detail).toBe(
      'The server said: “[AUTHENTICATIONFAILED] nope”',
    );
    expect(describeError(new Error('boom')).title).toBe('Something went wrong inside Whereabouts: boom');
  });
});
