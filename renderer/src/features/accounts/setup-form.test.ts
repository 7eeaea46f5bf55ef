import { describe, expect, it } from 'vitest';
import {
  emptyAccountForm,
  settingsFromForm,
  validateAccountForm,
  withSecurity,
  formFromSettings,
  guessedHosts,
} from './setup-form';

function filled() {
  const form = emptyAccountForm();
  form.email = 'ada@example.org';
  form.password = 'secret';
  form.imap.host = 'imap.example.org';
  form.smtp.host = 'smtp.example.org';
  return form;
}

describe('the account form', () => {
  it('accepts a complete form, the user name following the email address', () => {
    const form = filled();
    expect(validateAccountForm(form, { requirePassword: true })).toEqual({});
    expect(settingsFromForm(form)).toEqual({
      name: 'ada@example.org',
      email: 'ada@example.org',
      mode: 'imap',
      username: 'ada@example.org',
      imap: { host: 'imap.example.org', port: 993, security: 'tls', allowPlaintext: false, pinnedFingerprint: null },
      pop3: null,
      smtp: { host: 'smtp.example.org', port: 465, security: 'tls', allowPlaintext: false, pinnedFingerprint: null },
      leaveOnServer: { kind: 'off' },
      offlineFolders: [],
      checkIntervalMinutes: 10,
    });
  });

  it('names every problem by its field', () => {
    const form = emptyAccountForm();
    form.mode = 'pop3';
    form.pop3.host = 'mail.example.org:110';
    form.pop3.port = '0';
    form.leaveOnServer = { kind: 'days', days: 'ten' };
    form.checkIntervalMinutes = '-1';
    expect(Object.keys(validateAccountForm(form, { requirePassword: true })).sort()).toEqual([
      'checkInterval',
      'email',
      'leave.days',
      'password',
      'pop3.host',
      'pop3.port',
      'smtp.host',
      'username',
    ]);
  });

  it('accepts a domain without dots (a private network’s "localhost")', () => {
    const form = filled();
    form.email = 'u1@localhost';
    expect(validateAccountForm(form, { requirePassword: true })).toEqual({});
  });

  it('moves the port with the security choice unless the user chose a port', () => {
    const form = filled();
    expect(withSecurity('imap', form.imap, 'starttls').port).toBe('143');
    expect(withSecurity('smtp', form.smtp, 'starttls').port).toBe('587');
    expect(withSecurity('imap', { ...form.imap, port: '10993' }, 'starttls').port).toBe('10993');
    // Consent to plaintext never survives a change back to encryption.
    expect(withSecurity('imap', { ...form.imap, security: 'none', allowPlaintext: true }, 'tls').allowPlaintext).toBe(
      false,
    );
  });

  it('keeps the other mode’s server and the offline folders when editing an account', () => {
    const form = filled();
    form.pop3.host = 'pop.example.org';
    const settings = settingsFromForm(form, { ...settingsFromForm(form), offlineFolders: ['INBOX'] });
    expect(settings.pop3?.host).toBe('pop.example.org');
    expect(settings.offlineFolders).toEqual(['INBOX']);
    expect(formFromSettings(settings).usernameEdited).toBe(true);
  });

  it('keeps how an account signs in and its POP3 download options when its settings are saved', () => {
    const previous = {
      ...settingsFromForm(filled()),
      auth: { kind: 'oauth2', provider: 'google' } as const,
      pop3Options: { headersOnly: true, maxMessageKb: 2048 },
    };
    const form = formFromSettings(previous);
    expect(form.auth).toEqual({ kind: 'oauth2', provider: 'google' });
    // An OAuth account has no password to give.
    expect(validateAccountForm(form, { requirePassword: true }).password).toBeUndefined();
    const saved = settingsFromForm({ ...form, checkIntervalMinutes: '5' }, previous);
    expect(saved.auth).toEqual({ kind: 'oauth2', provider: 'google' });
    expect(saved.pop3Options).toEqual({ headersOnly: true, maxMessageKb: 2048 });
    expect(saved.checkIntervalMinutes).toBe(5);
    // A password account made by the set-up screen says nothing about how it signs in.
    expect(settingsFromForm(filled()).auth).toBeUndefined();
  });

  it('guesses the usual server names at the domain', () => {
    expect(guessedHosts('a@Example.ORG')).toEqual({
      imap: 'imap.example.org',
      pop3: 'pop.example.org',
      smtp: 'smtp.example.org',
    });
    expect(guessedHosts('a@localhost')).toBeNull();
  });
});
