/**
 * The account form as the user fills it in (strings, as typed), its checks, and its conversion to
 * the AccountSettings of the contract. Pure, so the rules are the same in setup and in settings.
 */
import type {
  AccountAuth,
  AccountSettings,
  LeaveOnServer,
  ProtocolMode,
  Security,
  ServerEndpoint,
} from '../../../../shared/model';

export type ServerRole = 'imap' | 'pop3' | 'smtp';

export interface EndpointForm {
  host: string;
  port: string;
  security: Security;
  allowPlaintext: boolean;
  pinnedFingerprint: string | null;
}

export interface LeaveOnServerForm {
  kind: LeaveOnServer['kind'];
  days: string;
}

export interface AccountForm {
  name: string;
  email: string;
  password: string;
  username: string;
  /** Until the user types a user name of their own, it follows the email address. */
  usernameEdited: boolean;
  mode: ProtocolMode;
  imap: EndpointForm;
  pop3: EndpointForm;
  smtp: EndpointForm;
  leaveOnServer: LeaveOnServerForm;
  checkIntervalMinutes: string;
  /** A password (the default), or tokens from a sign-in in the browser (OAuth 2.0). */
  auth: AccountAuth;
}

/** Standard ports: RFC 8314 section 7 (implicit TLS), RFC 3501/1939/6409 (plain and STARTTLS). */
export const DEFAULT_PORTS: Record<ServerRole, Record<Security, number>> = {
  imap: { tls: 993, starttls: 143, none: 143 },
  pop3: { tls: 995, starttls: 110, none: 110 },
  smtp: { tls: 465, starttls: 587, none: 587 },
};

export const SERVER_LABELS: Record<ServerRole, string> = { imap: 'IMAP', pop3: 'POP3', smtp: 'SMTP' };

export const MAXIMUM_LEAVE_DAYS = 3650;
export const MAXIMUM_CHECK_INTERVAL_MINUTES = 1440;
export const DEFAULT_CHECK_INTERVAL_MINUTES = 10;
const MAXIMUM_PORT = 65_535;

export function emptyEndpoint(role: ServerRole): EndpointForm {
  return {
    host: '',
    port: String(DEFAULT_PORTS[role].tls),
    security: 'tls',
    allowPlaintext: false,
    pinnedFingerprint: null,
  };
}

export function emptyAccountForm(): AccountForm {
  return {
    name: '',
    email: '',
    password: '',
    username: '',
    usernameEdited: false,
    mode: 'imap',
    imap: emptyEndpoint('imap'),
    pop3: emptyEndpoint('pop3'),
    smtp: emptyEndpoint('smtp'),
    leaveOnServer: { kind: 'off', days: '14' },
    checkIntervalMinutes: String(DEFAULT_CHECK_INTERVAL_MINUTES),
    auth: { kind: 'password' },
  };
}

/** A new security choice moves the port along when it was still the old default. */
export function withSecurity(role: ServerRole, endpoint: EndpointForm, security: Security): EndpointForm {
  const wasDefault = endpoint.port.trim() === '' || Number(endpoint.port) === DEFAULT_PORTS[role][endpoint.security];
  return {
    ...endpoint,
    security,
    port: wasDefault ? String(DEFAULT_PORTS[role][security]) : endpoint.port,
    allowPlaintext: security === 'none' ? endpoint.allowPlaintext : false,
  };
}

/** The endpoint form for a server the service gave (a provider preset, discovered settings). */
export function endpointForm(endpoint: ServerEndpoint): EndpointForm {
  return {
    host: endpoint.host,
    port: String(endpoint.port),
    security: endpoint.security,
    allowPlaintext: false,
    pinnedFingerprint: null,
  };
}

export function endpointFromSettings(endpoint: ServerEndpoint | null, role: ServerRole): EndpointForm {
  if (endpoint === null) return emptyEndpoint(role);
  return {
    host: endpoint.host,
    port: String(endpoint.port),
    security: endpoint.security,
    allowPlaintext: endpoint.allowPlaintext === true,
    pinnedFingerprint: endpoint.pinnedFingerprint ?? null,
  };
}

export function formFromSettings(settings: AccountSettings): AccountForm {
  return {
    name: settings.name,
    email: settings.email,
    password: '',
    username: settings.username,
    usernameEdited: true,
    mode: settings.mode,
    imap: endpointFromSettings(settings.imap, 'imap'),
    pop3: endpointFromSettings(settings.pop3, 'pop3'),
    smtp: endpointFromSettings(settings.smtp, 'smtp'),
    leaveOnServer: {
      kind: settings.leaveOnServer.kind,
      days: settings.leaveOnServer.kind === 'days' ? String(settings.leaveOnServer.days) : '14',
    },
    checkIntervalMinutes: String(settings.checkIntervalMinutes),
    auth: settings.auth ?? { kind: 'password' },
  };
}

export type FieldErrors = Partial<Record<string, string>>;

/** Local part, "@", a domain (a dotless one such as "localhost" is valid on a private network). */
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+$/;
const HOST = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?)$/i;

function wholeNumber(text: string): number | null {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

export function validateEmailAddress(email: string): string | null {
  if (email.trim() === '') return 'Enter your email address.';
  if (!EMAIL.test(email.trim())) return 'This is not an email address like name@example.org.';
  return null;
}

export function validateEndpointForm(role: ServerRole, endpoint: EndpointForm, errors: FieldErrors): void {
  const label = SERVER_LABELS[role];
  const host = endpoint.host.trim();
  if (host === '')
    errors[`${role}.host`] =
      `Enter the ${label} server name, e.g. ${role === 'smtp' ? 'smtp' : role === 'pop3' ? 'pop' : 'imap'}.example.org.`;
  else if (/[\s/:@]/.test(host.replace(/^\[.*\]$/, '')) || !HOST.test(host)) {
    errors[`${role}.host`] = 'Give only the server name, without “https://”, “@” or a port, e.g. mail.example.org.';
  }
  const port = wholeNumber(endpoint.port);
  if (port === null || port < 1 || port > MAXIMUM_PORT) {
    errors[`${role}.port`] =
      `The port is a number from 1 to ${MAXIMUM_PORT}; usually ${DEFAULT_PORTS[role][endpoint.security]}.`;
  }
}

/** Every problem with the form, keyed by field ("email", "imap.host", "leave.days"…). */
export function validateAccountForm(form: AccountForm, options: { requirePassword: boolean }): FieldErrors {
  const errors: FieldErrors = {};
  const email = validateEmailAddress(form.email);
  if (email !== null) errors.email = email;
  if (options.requirePassword && form.auth.kind === 'password' && form.password === '') {
    errors.password = 'Enter the password of this mailbox.';
  }
  if (effectiveUsername(form).trim() === '') errors.username = 'Enter the user name the server expects.';
  validateEndpointForm(form.mode, form[form.mode], errors);
  validateEndpointForm('smtp', form.smtp, errors);
  if (form.mode === 'pop3' && form.leaveOnServer.kind === 'days') {
    const days = wholeNumber(form.leaveOnServer.days);
    if (days === null || days < 1 || days > MAXIMUM_LEAVE_DAYS) {
      errors['leave.days'] = `Enter a number of days from 1 to ${MAXIMUM_LEAVE_DAYS}.`;
    }
  }
  const interval = wholeNumber(form.checkIntervalMinutes);
  if (interval === null || interval > MAXIMUM_CHECK_INTERVAL_MINUTES) {
    errors.checkInterval = `Enter minutes from 0 (only when you ask) to ${MAXIMUM_CHECK_INTERVAL_MINUTES}.`;
  }
  return errors;
}

export function effectiveUsername(form: AccountForm): string {
  return form.usernameEdited ? form.username : form.email.trim();
}

/** The endpoint the service receives for a server's fields (checked with validateEndpointForm first). */
export function endpointFromForm(form: EndpointForm): ServerEndpoint {
  return endpoint(form);
}

function endpoint(form: EndpointForm): ServerEndpoint {
  return {
    host: form.host.trim().replace(/\.$/, ''),
    port: Number(form.port.trim()),
    security: form.security,
    allowPlaintext: form.security === 'none' && form.allowPlaintext,
    pinnedFingerprint: form.security === 'none' ? null : form.pinnedFingerprint,
  };
}

function leaveOnServer(form: LeaveOnServerForm): LeaveOnServer {
  return form.kind === 'days' ? { kind: 'days', days: Number(form.days.trim()) } : { kind: form.kind };
}

/**
 * The settings the service receives. The incoming server of the other mode is kept when it was
 * filled in (settings of an existing account), so a later switch has it at hand; what the form
 * does not show (POP3 download options) is kept from the account's previous settings.
 */
export function settingsFromForm(form: AccountForm, previous: AccountSettings | null = null): AccountSettings {
  const otherMode: ProtocolMode = form.mode === 'imap' ? 'pop3' : 'imap';
  const other = form[otherMode].host.trim() !== '' ? endpoint(form[otherMode]) : null;
  return {
    name: form.name.trim() !== '' ? form.name.trim() : form.email.trim(),
    email: form.email.trim(),
    mode: form.mode,
    username: effectiveUsername(form).trim(),
    imap: form.mode === 'imap' ? endpoint(form.imap) : other,
    pop3: form.mode === 'pop3' ? endpoint(form.pop3) : other,
    smtp: endpoint(form.smtp),
    leaveOnServer: leaveOnServer(form.leaveOnServer),
    offlineFolders: previous?.offlineFolders ?? [],
    checkIntervalMinutes: Number(form.checkIntervalMinutes.trim()),
    ...(previous?.pop3Options !== undefined ? { pop3Options: previous.pop3Options } : {}),
    ...(form.auth.kind === 'oauth2' || previous?.auth !== undefined ? { auth: form.auth } : {}),
  };
}

/** The one-line explanation of each mode, from SEMANTICS.md. */
export const MODE_EXPLANATIONS: Record<ProtocolMode, { title: string; summary: string; detail: string }> = {
  imap: {
    title: 'Keep mail on the server (IMAP)',
    summary:
      'Every computer and phone sees the same messages, folders and flags; mail counts against the server’s quota.',
    detail:
      'Only headers are fetched at first; a message’s body when you open it, or ahead of time for folders you keep offline.',
  },
  pop3: {
    title: 'Download mail to this computer (POP3)',
    summary: 'New mail is downloaded whole to this computer and, unless you leave a copy, removed from the server.',
    detail: 'Folders are local to this computer, and only the server’s inbox is reachable. Back up this computer.',
  },
};

export const LEAVE_ON_SERVER_LABELS: Record<LeaveOnServer['kind'], string> = {
  off: 'Remove from the server once downloaded',
  forever: 'Leave a copy on the server forever',
  days: 'Leave a copy for a number of days',
  'until-deleted': 'Leave a copy until I delete it here',
};

/** Server names people most often use at a domain: a guess to edit, shown as such. */
export function guessedHosts(email: string): Record<ServerRole, string> | null {
  const at = email.trim().lastIndexOf('@');
  if (at < 1) return null;
  const domain = email
    .trim()
    .slice(at + 1)
    .toLowerCase();
  if (!domain.includes('.')) return null;
  return { imap: `imap.${domain}`, pop3: `pop.${domain}`, smtp: `smtp.${domain}` };
}
