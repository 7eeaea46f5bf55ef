/**
 * Finds server settings for an email address, so most people never type a host name:
 *
 * 1. the provider's own autoconfig document (Mozilla's config-v1.1.xml format), at
 *    `https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=…` and then
 *    `https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml` (HTTPS only: over plain HTTP anyone
 *    on the network could point us at their own server);
 * 2. DNS SRV records (RFC 6186, with RFC 8314's implicit-TLS services `_submissions` and the
 *    preference for implicit TLS).
 *
 * Discovery is advice, never a failure: every problem becomes a reason in the result, nothing throws.
 */
import { resolveSrv as systemResolveSrv } from 'node:dns/promises';
import type { Security } from '../../shared/model';
import { validateEmail, validateHost } from './account-settings';
import { childrenNamed, childText, parseXml, XmlSyntaxError, type XmlElement } from './autoconfig-xml';

export type DiscoveredProtocol = 'imap' | 'pop3' | 'smtp';

export interface DiscoveredServer {
  protocol: DiscoveredProtocol;
  host: string;
  port: number;
  security: Security;
  /** The login name with placeholders filled in; null when the source does not say (SRV). */
  username: string | null;
  /** Authentication methods the source lists (e.g. "password-cleartext", "OAuth2"); empty if unknown. */
  authentication: string[];
  /** Where this came from, e.g. the autoconfig URL or the SRV name. */
  source: string;
}

export interface AutoconfigResult {
  email: string;
  /** The provider's name from the autoconfig document, when there is one. */
  displayName: string | null;
  /** Candidates per protocol, best first. */
  imap: DiscoveredServer[];
  pop3: DiscoveredServer[];
  smtp: DiscoveredServer[];
  /** Why each source that gave nothing gave nothing, in words. */
  reasons: string[];
}

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface AutoconfigOptions {
  /** Fetches a document's text; rejects on HTTP errors. Defaults to `fetchConfigText` (HTTPS). */
  fetchText?: (url: string, signal: AbortSignal) => Promise<string>;
  /** Resolves SRV records; defaults to the system resolver. */
  resolveSrv?: (name: string) => Promise<SrvRecord[]>;
  /** Limit for each HTTP fetch and each DNS lookup. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 8_000;
/** Autoconfig documents are a few KiB; refuse to buffer anything much larger. */
const MAXIMUM_DOCUMENT_BYTES = 256 * 1024;
const MAXIMUM_PORT = 65_535;

/** Mozilla's socketType values → our Security. */
const SOCKET_TYPES: ReadonlyMap<string, Security> = new Map([
  ['SSL', 'tls'],
  ['TLS', 'tls'],
  ['STARTTLS', 'starttls'],
  ['plain', 'none'],
]);

/**
 * RFC 6186 §3.1–3.3 and RFC 8314 §5.1: the services to look up, implicit TLS first (it is preferred
 * when both exist), with the security each one means.
 */
const SRV_SERVICES: ReadonlyArray<{ label: string; protocol: DiscoveredProtocol; security: Security }> = [
  { label: '_imaps._tcp', protocol: 'imap', security: 'tls' },
  { label: '_imap._tcp', protocol: 'imap', security: 'starttls' },
  { label: '_pop3s._tcp', protocol: 'pop3', security: 'tls' },
  { label: '_pop3._tcp', protocol: 'pop3', security: 'starttls' },
  { label: '_submissions._tcp', protocol: 'smtp', security: 'tls' },
  { label: '_submission._tcp', protocol: 'smtp', security: 'starttls' },
];

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time';
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

/** The default fetcher: HTTPS GET with a size limit; redirects are followed only to HTTPS. */
export async function fetchConfigText(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal, redirect: 'follow', headers: { accept: 'application/xml, text/xml' } });
  if (new URL(response.url || url).protocol !== new URL(url).protocol) {
    throw new Error('redirected away from HTTPS');
  }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAXIMUM_DOCUMENT_BYTES) throw new Error('document too large');
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > MAXIMUM_DOCUMENT_BYTES) throw new Error('document too large');
  return body.toString('utf8');
}

/** Thunderbird's placeholders (autoconfig "Placeholders" section). */
function fillPlaceholders(value: string, email: string): string {
  const at = email.lastIndexOf('@');
  return value
    .replaceAll('%EMAILADDRESS%', email)
    .replaceAll('%EMAILLOCALPART%', email.slice(0, at))
    .replaceAll('%EMAILDOMAIN%', email.slice(at + 1));
}

function readServer(
  element: XmlElement,
  protocol: DiscoveredProtocol,
  email: string,
  source: string,
  reasons: string[],
): DiscoveredServer | null {
  const where = `${source}: a ${protocol.toUpperCase()} server entry`;
  try {
    const host = validateHost(fillPlaceholders(childText(element, 'hostname') ?? '', email), 'server name');
    const portText = childText(element, 'port') ?? '';
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > MAXIMUM_PORT) {
      reasons.push(`${where} has an invalid port ${JSON.stringify(portText)}; skipped.`);
      return null;
    }
    const socketType = childText(element, 'socketType') ?? '';
    const security = SOCKET_TYPES.get(socketType);
    if (security === undefined) {
      reasons.push(`${where} has an unknown socketType ${JSON.stringify(socketType)}; skipped.`);
      return null;
    }
    const usernameTemplate = childText(element, 'username');
    const username =
      usernameTemplate === null || usernameTemplate === '' ? null : fillPlaceholders(usernameTemplate, email);
    const authentication = childrenNamed(element, 'authentication')
      .map((child) => child.text.trim())
      .filter((method) => method !== '');
    return { protocol, host, port, security, username, authentication, source };
  } catch (error) {
    reasons.push(`${where} is unusable: ${reasonOf(error)}; skipped.`);
    return null;
  }
}

interface ParsedDocument {
  displayName: string | null;
  servers: DiscoveredServer[];
}

/** Reads a config-v1.1.xml document; throws (with a reason) when it is not one. */
export function parseAutoconfigDocument(
  text: string,
  email: string,
  source: string,
  reasons: string[],
): ParsedDocument {
  const root = parseXml(text);
  if (root.name !== 'clientConfig') throw new XmlSyntaxError(`the root element is <${root.name}>, not <clientConfig>`);
  const provider = childrenNamed(root, 'emailProvider')[0];
  if (!provider) throw new XmlSyntaxError('there is no <emailProvider>');
  const servers: DiscoveredServer[] = [];
  for (const incoming of childrenNamed(provider, 'incomingServer')) {
    const type = incoming.attributes.get('type');
    if (type !== 'imap' && type !== 'pop3') {
      reasons.push(`${source}: incoming server type ${JSON.stringify(type ?? '')} is not supported; skipped.`);
      continue;
    }
    const server = readServer(incoming, type, email, source, reasons);
    if (server) servers.push(server);
  }
  for (const outgoing of childrenNamed(provider, 'outgoingServer')) {
    if (outgoing.attributes.get('type') !== 'smtp') continue;
    const server = readServer(outgoing, 'smtp', email, source, reasons);
    if (server) servers.push(server);
  }
  if (servers.length === 0) throw new XmlSyntaxError('it lists no usable server');
  return { displayName: childText(provider, 'displayName') || null, servers };
}

async function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(Object.assign(new Error('no answer in time'), { name: 'TimeoutError' }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function fromDocuments(
  email: string,
  domain: string,
  options: Required<AutoconfigOptions>,
  reasons: string[],
): Promise<ParsedDocument | null> {
  const urls = [
    `https://autoconfig.${domain}/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(email)}`,
    `https://${domain}/.well-known/autoconfig/mail/config-v1.1.xml`,
  ];
  // Both at once (each bounded by the timeout); the first in this order that works wins.
  const attempts = urls.map(async (url) => {
    try {
      const text = await withTimeout((signal) => options.fetchText(url, signal), options.timeoutMs);
      const documentReasons: string[] = [];
      const parsed = parseAutoconfigDocument(text, email, url, documentReasons);
      return { parsed, reasons: documentReasons };
    } catch (error) {
      return { parsed: null, reasons: [`${url}: ${reasonOf(error)}.`] };
    }
  });
  const outcomes = await Promise.all(attempts);
  const winner = outcomes.find((outcome) => outcome.parsed !== null);
  for (const outcome of outcomes) {
    if (outcome === winner || winner === undefined || outcome.parsed === null) reasons.push(...outcome.reasons);
  }
  return winner?.parsed ?? null;
}

/** RFC 2782: lower priority first; among equals, higher weight first (a deterministic stand-in for weighted random). */
function bySrvPreference(left: SrvRecord, right: SrvRecord): number {
  return left.priority - right.priority || right.weight - left.weight;
}

async function fromSrv(
  domain: string,
  options: Required<AutoconfigOptions>,
  reasons: string[],
): Promise<DiscoveredServer[]> {
  const lookups = SRV_SERVICES.map(async (service) => {
    const name = `${service.label}.${domain}`;
    try {
      const records = await withTimeout(() => options.resolveSrv(name), options.timeoutMs);
      const servers: DiscoveredServer[] = [];
      for (const record of [...records].sort(bySrvPreference)) {
        // RFC 6186 §4 / RFC 2782: a target of "." says the service is deliberately not offered.
        if (record.name === '.' || record.name === '') continue;
        try {
          if (!Number.isInteger(record.port) || record.port < 1 || record.port > MAXIMUM_PORT)
            throw new Error('invalid port');
          servers.push({
            protocol: service.protocol,
            host: validateHost(record.name.replace(/\.$/, ''), 'server name'),
            port: record.port,
            security: service.security,
            username: null,
            authentication: [],
            source: `DNS SRV ${name}`,
          });
        } catch (error) {
          reasons.push(
            `DNS SRV ${name}: record ${JSON.stringify(record.name)}:${record.port} is unusable (${reasonOf(error)}).`,
          );
        }
      }
      return servers;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      // "No such record" is the normal case for most domains and services: not worth a reason each.
      if (code !== 'ENOTFOUND' && code !== 'ENODATA') reasons.push(`DNS SRV ${name}: ${reasonOf(error)}.`);
      return [];
    }
  });
  const servers = (await Promise.all(lookups)).flat();
  if (servers.length === 0) reasons.push(`DNS: no SRV records (RFC 6186) for ${domain}.`);
  return servers;
}

function addUnique(list: DiscoveredServer[], server: DiscoveredServer): void {
  const duplicate = list.some(
    (existing) =>
      existing.host === server.host && existing.port === server.port && existing.security === server.security,
  );
  if (!duplicate) list.push(server);
}

/**
 * Looks up settings for `emailAddress`. The autoconfig document's entries come first (the provider
 * wrote them for mail clients), then SRV entries not already listed. Within a protocol the order of
 * the source is kept.
 */
export async function discoverSettings(
  emailAddress: string,
  options: AutoconfigOptions = {},
): Promise<AutoconfigResult> {
  const reasons: string[] = [];
  const result: AutoconfigResult = { email: emailAddress, displayName: null, imap: [], pop3: [], smtp: [], reasons };
  let email: string;
  try {
    email = validateEmail(emailAddress);
  } catch (error) {
    reasons.push(reasonOf(error));
    return result;
  }
  result.email = email;
  const domain = email.slice(email.lastIndexOf('@') + 1);
  const resolved: Required<AutoconfigOptions> = {
    fetchText: options.fetchText ?? fetchConfigText,
    resolveSrv: options.resolveSrv ?? systemResolveSrv,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  try {
    const [document, srv] = await Promise.all([
      fromDocuments(email, domain, resolved, reasons),
      fromSrv(domain, resolved, reasons),
    ]);
    result.displayName = document?.displayName ?? null;
    for (const server of [...(document?.servers ?? []), ...srv]) addUnique(result[server.protocol], server);
  } catch (error) {
    // Not expected (each source catches its own failures), but the UI must never see a throw.
    reasons.push(`Discovery failed: ${reasonOf(error)}.`);
  }
  return result;
}
