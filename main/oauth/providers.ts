/**
 * Provider presets: the servers, the modes and the way of signing in for the big mail providers, so
 * that a person types an address and Whereabouts knows the rest. Chosen from the address's domain, or
 * from the servers autoconfig found (a company domain hosted by Google or Microsoft).
 *
 * OAuth 2.0 (RFC 6749) with PKCE (RFC 7636) is how Gmail, Outlook.com / Microsoft 365, Yahoo, AOL and
 * Fastmail accept third-party mail clients; iCloud has no OAuth for mail and wants an app-specific
 * password instead. The endpoints and scopes below are the providers' published ones; the client ids
 * that go with them are configuration (client-registrations.ts, README.md), never in the repository.
 */
import type { ProtocolMode, ServerEndpoint } from '../../shared/model';
import type { AutoconfigResult } from '../accounts/autoconfig';

/** What one OAuth 2.0 authorization server needs from us, apart from the client registration. */
export interface OAuthIssuer {
  /** Our id for it: the account's `auth.provider` and the key of its client registration. */
  id: string;
  displayName: string;
  /** RFC 6749 §3.1. */
  authorizationEndpoint: string;
  /** RFC 6749 §3.2. */
  tokenEndpoint: string;
  /**
   * Every scope a mail account may need (RFC 6749 §3.3), for IMAP, POP3 and SMTP alike: a later mode
   * switch then needs no new sign-in.
   */
  scopes: readonly string[];
  /** Extra query parameters of the authorization request, e.g. Google's `access_type=offline`. */
  authorizationParameters: Readonly<Record<string, string>>;
}

export type PresetSignIn =
  | { kind: 'oauth2'; issuer: OAuthIssuer }
  /** No OAuth for mail: the person makes an app-specific password on the provider's site. */
  | { kind: 'app-password'; helpUrl: string };

export interface ProviderPreset {
  id: string;
  displayName: string;
  /** Address domains served by this provider. */
  domains: readonly string[];
  /** Server host names (or their parent domains) that identify the provider in autoconfig results. */
  serverDomains: readonly string[];
  /** The modes the provider offers, in order of preference. */
  modes: readonly ProtocolMode[];
  imap: ServerEndpoint | null;
  pop3: ServerEndpoint | null;
  smtp: ServerEndpoint;
  /** The login name is the whole address for every provider here. */
  username: 'email';
  signIn: PresetSignIn;
}

const implicitTls = (host: string, port: number): ServerEndpoint => ({ host, port, security: 'tls' });
const startTls = (host: string, port: number): ServerEndpoint => ({ host, port, security: 'starttls' });

export const GOOGLE: OAuthIssuer = {
  id: 'google',
  displayName: 'Google',
  authorizationEndpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenEndpoint: 'https://oauth2.googleapis.com/token',
  // One scope for IMAP, POP3 and SMTP alike (developers.google.com/gmail/imap/xoauth2-protocol).
  scopes: ['https://mail.google.com/'],
  // Without offline access Google issues no refresh token; without consent it issues one only the
  // first time an app is authorized, so a second computer would get none.
  authorizationParameters: { access_type: 'offline', prompt: 'consent' },
};

export const MICROSOFT: OAuthIssuer = {
  id: 'microsoft',
  displayName: 'Microsoft',
  // "common" takes both personal (Outlook.com) and work or school (Microsoft 365) accounts.
  authorizationEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
  tokenEndpoint: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
  scopes: [
    'https://outlook.office.com/IMAP.AccessAsUser.All',
    'https://outlook.office.com/POP.AccessAsUser.All',
    'https://outlook.office.com/SMTP.Send',
    // Microsoft issues a refresh token only with this scope.
    'offline_access',
  ],
  authorizationParameters: {},
};

export const YAHOO: OAuthIssuer = {
  id: 'yahoo',
  displayName: 'Yahoo',
  authorizationEndpoint: 'https://api.login.yahoo.com/oauth2/request_auth',
  tokenEndpoint: 'https://api.login.yahoo.com/oauth2/get_token',
  scopes: ['mail-w'],
  authorizationParameters: {},
};

export const AOL: OAuthIssuer = {
  id: 'aol',
  displayName: 'AOL',
  authorizationEndpoint: 'https://api.login.aol.com/oauth2/request_auth',
  tokenEndpoint: 'https://api.login.aol.com/oauth2/get_token',
  scopes: ['mail-w'],
  authorizationParameters: {},
};

export const FASTMAIL: OAuthIssuer = {
  id: 'fastmail',
  displayName: 'Fastmail',
  authorizationEndpoint: 'https://api.fastmail.com/oauth/authorize',
  tokenEndpoint: 'https://api.fastmail.com/oauth/refresh',
  scopes: [
    'https://www.fastmail.com/dev/protocol-imap',
    'https://www.fastmail.com/dev/protocol-pop',
    'https://www.fastmail.com/dev/protocol-smtp',
  ],
  authorizationParameters: {},
};

export const BUILT_IN_ISSUERS: readonly OAuthIssuer[] = [GOOGLE, MICROSOFT, YAHOO, AOL, FASTMAIL];

export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  {
    id: 'gmail',
    displayName: 'Gmail',
    domains: ['gmail.com', 'googlemail.com'],
    serverDomains: ['gmail.com', 'googlemail.com'],
    modes: ['imap', 'pop3'],
    imap: implicitTls('imap.gmail.com', 993),
    pop3: implicitTls('pop.gmail.com', 995),
    smtp: implicitTls('smtp.gmail.com', 465),
    username: 'email',
    signIn: { kind: 'oauth2', issuer: GOOGLE },
  },
  {
    id: 'outlook',
    displayName: 'Outlook.com',
    domains: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'hotmail.co.uk', 'live.co.uk', 'outlook.de'],
    serverDomains: ['outlook.com', 'hotmail.com'],
    modes: ['imap', 'pop3'],
    imap: implicitTls('outlook.office365.com', 993),
    pop3: implicitTls('outlook.office365.com', 995),
    smtp: startTls('smtp-mail.outlook.com', 587),
    username: 'email',
    signIn: { kind: 'oauth2', issuer: MICROSOFT },
  },
  {
    // Work and school accounts have their own domains: found through autoconfig's server names.
    id: 'microsoft365',
    displayName: 'Microsoft 365',
    domains: [],
    serverDomains: ['office365.com'],
    modes: ['imap', 'pop3'],
    imap: implicitTls('outlook.office365.com', 993),
    pop3: implicitTls('outlook.office365.com', 995),
    smtp: startTls('smtp.office365.com', 587),
    username: 'email',
    signIn: { kind: 'oauth2', issuer: MICROSOFT },
  },
  {
    id: 'yahoo',
    displayName: 'Yahoo Mail',
    domains: ['yahoo.com', 'ymail.com', 'rocketmail.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.co.jp'],
    serverDomains: ['mail.yahoo.com'],
    modes: ['imap', 'pop3'],
    imap: implicitTls('imap.mail.yahoo.com', 993),
    pop3: implicitTls('pop.mail.yahoo.com', 995),
    smtp: implicitTls('smtp.mail.yahoo.com', 465),
    username: 'email',
    signIn: { kind: 'oauth2', issuer: YAHOO },
  },
  {
    id: 'aol',
    displayName: 'AOL Mail',
    domains: ['aol.com', 'aim.com'],
    serverDomains: ['aol.com'],
    modes: ['imap', 'pop3'],
    imap: implicitTls('imap.aol.com', 993),
    pop3: implicitTls('pop.aol.com', 995),
    smtp: implicitTls('smtp.aol.com', 465),
    username: 'email',
    signIn: { kind: 'oauth2', issuer: AOL },
  },
  {
    id: 'fastmail',
    displayName: 'Fastmail',
    domains: ['fastmail.com', 'fastmail.fm', 'messagingengine.com'],
    serverDomains: ['fastmail.com'],
    modes: ['imap', 'pop3'],
    imap: implicitTls('imap.fastmail.com', 993),
    pop3: implicitTls('pop.fastmail.com', 995),
    smtp: implicitTls('smtp.fastmail.com', 465),
    username: 'email',
    signIn: { kind: 'oauth2', issuer: FASTMAIL },
  },
  {
    // support.apple.com/102525: IMAP and SMTP only, no POP3, no OAuth for mail clients.
    id: 'icloud',
    displayName: 'iCloud Mail',
    domains: ['icloud.com', 'me.com', 'mac.com'],
    serverDomains: ['mail.me.com'],
    modes: ['imap'],
    imap: implicitTls('imap.mail.me.com', 993),
    pop3: null,
    smtp: startTls('smtp.mail.me.com', 587),
    username: 'email',
    signIn: { kind: 'app-password', helpUrl: 'https://support.apple.com/102654' },
  },
];

function domainOf(email: string): string {
  return email
    .slice(email.lastIndexOf('@') + 1)
    .trim()
    .replace(/\.$/, '')
    .toLowerCase();
}

/** True when `host` is `domain` or a name under it ("imap.gmail.com" is under "gmail.com"). */
function isWithin(host: string, domain: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === domain || name.endsWith(`.${domain}`);
}

/** The preset for an address by its domain alone, or null. */
export function presetForEmail(email: string): ProviderPreset | null {
  const domain = domainOf(email);
  return PROVIDER_PRESETS.find((preset) => preset.domains.includes(domain)) ?? null;
}

/**
 * The preset for an address: by its domain, else by the servers autoconfig found for it (the first
 * candidate of each protocol, as those are the ones the set-up would use). Null for everyone else.
 */
export function presetFor(email: string, discovered?: AutoconfigResult | null): ProviderPreset | null {
  const byDomain = presetForEmail(email);
  if (byDomain || !discovered) return byDomain;
  const hosts = [discovered.imap[0], discovered.pop3[0], discovered.smtp[0]]
    .filter((server) => server !== undefined)
    .map((server) => server.host);
  return (
    PROVIDER_PRESETS.find((preset) =>
      hosts.some((host) => preset.serverDomains.some((domain) => isWithin(host, domain))),
    ) ?? null
  );
}

export function presetById(id: string): ProviderPreset | null {
  return PROVIDER_PRESETS.find((preset) => preset.id === id) ?? null;
}

export function builtInIssuer(id: string): OAuthIssuer | null {
  return BUILT_IN_ISSUERS.find((issuer) => issuer.id === id) ?? null;
}
