/**
 * OAuth client registrations: which client id (and, for Google, the "secret" its desktop clients get)
 * this build of Whereabouts presents to each provider. They are configuration, set by whoever packages
 * the app (README.md beside this file), never part of the repository: a client id is tied to the
 * organisation that registered it and to the terms it accepted.
 *
 * Sources, later ones winning per provider:
 * 1. `oauth-clients.json` in each directory the shell names (the packaged app's resources folder, then
 *    the profile folder), or the file named by WHEREABOUTS_OAUTH_CLIENTS instead;
 * 2. WHEREABOUTS_OAUTH_<PROVIDER>_CLIENT_ID and …_CLIENT_SECRET environment variables.
 *
 * A file entry for an id that is not built in (providers.ts) also brings its endpoints and scopes:
 * that is how a company's own identity provider, or the tests' local one, is added.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MailError } from '../../shared/errors';
import { builtInIssuer, type OAuthIssuer } from './providers';

export const CLIENTS_FILE_NAME = 'oauth-clients.json';
export const CLIENTS_FILE_VARIABLE = 'WHEREABOUTS_OAUTH_CLIENTS';
const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const MAXIMUM_FILE_BYTES = 64 * 1024;

/** An issuer together with the client this build is registered as. */
export interface OAuthProviderConfig extends OAuthIssuer {
  clientId: string;
  /**
   * Sent when the provider insists (Google's desktop clients). Not a secret in an installed app
   * (RFC 8252 §8.5): PKCE is what protects the authorization code.
   */
  clientSecret: string | null;
}

export interface OAuthConfiguration {
  /** The provider with a usable client registration, or null. */
  provider(id: string): OAuthProviderConfig | null;
  /** Ids of every provider that has a client registration. */
  providerIds(): string[];
}

export interface LoadedOAuthConfiguration {
  configuration: OAuthConfiguration;
  /** Entries that were skipped, in words (for the log); nothing here stops the app. */
  problems: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/**
 * RFC 6749 §3.1 and §3.2 require TLS for both endpoints (codes and tokens cross them); plain HTTP is
 * accepted only on this computer's loopback (a local identity provider, the tests).
 */
export function checkEndpoint(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new MailError('INVALID_INPUT', `The ${what} must be a URL.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MailError('INVALID_INPUT', `The ${what} ${JSON.stringify(value)} is not a URL.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new MailError('INVALID_INPUT', `The ${what} must use https (${value}).`);
  }
  if (url.hash !== '') throw new MailError('INVALID_INPUT', `The ${what} must not have a fragment (RFC 6749 §3.1).`);
  return url.toString();
}

function optionalText(record: Record<string, unknown>, key: string, id: string): string | null {
  const value = record[key];
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || /[\s\0]/.test(value)) {
    throw new MailError('INVALID_INPUT', `"${key}" of "${id}" must be text without spaces.`);
  }
  return value;
}

/** One entry of the file (or of the environment) → a complete provider configuration. */
export function providerFromEntry(id: string, entry: unknown): OAuthProviderConfig {
  if (!PROVIDER_ID.test(id)) {
    throw new MailError('INVALID_INPUT', `"${id}" is not a provider id (lower-case letters, digits, hyphens).`);
  }
  if (!isRecord(entry)) throw new MailError('INVALID_INPUT', `The entry for "${id}" must be an object.`);
  const clientId = optionalText(entry, 'clientId', id);
  if (clientId === null) throw new MailError('INVALID_INPUT', `The entry for "${id}" has no clientId.`);
  const clientSecret = optionalText(entry, 'clientSecret', id);
  const builtIn = builtInIssuer(id);
  if (builtIn) return { ...builtIn, clientId, clientSecret };
  const scopes = entry.scopes;
  if (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string' && /^[\x21-\x7e]+$/.test(scope))) {
    throw new MailError('INVALID_INPUT', `"scopes" of "${id}" must be a list of scope names (RFC 6749 §3.3).`);
  }
  const parameters = entry.authorizationParameters ?? {};
  if (!isRecord(parameters) || !Object.values(parameters).every((value) => typeof value === 'string')) {
    throw new MailError('INVALID_INPUT', `"authorizationParameters" of "${id}" must map names to text.`);
  }
  return {
    id,
    displayName: typeof entry.displayName === 'string' && entry.displayName.trim() ? entry.displayName.trim() : id,
    authorizationEndpoint: checkEndpoint(entry.authorizationEndpoint, `authorization endpoint of "${id}"`),
    tokenEndpoint: checkEndpoint(entry.tokenEndpoint, `token endpoint of "${id}"`),
    scopes,
    authorizationParameters: parameters as Record<string, string>,
    clientId,
    clientSecret,
  };
}

/** A configuration from providers already checked (the tests, or `loadOAuthConfiguration`). */
export function createOAuthConfiguration(providers: readonly OAuthProviderConfig[]): OAuthConfiguration {
  const byId = new Map(providers.map((provider) => [provider.id, provider]));
  return {
    provider: (id) => byId.get(id) ?? null,
    providerIds: () => [...byId.keys()],
  };
}

async function readEntries(filePath: string, problems: string[]): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const bytes = await readFile(filePath);
    if (bytes.length > MAXIMUM_FILE_BYTES) {
      problems.push(`${filePath} is larger than ${MAXIMUM_FILE_BYTES} bytes; ignored.`);
      return {};
    }
    text = bytes.toString('utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') problems.push(`${filePath} could not be read; ignored.`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) return parsed;
  } catch {
    // reported below
  }
  problems.push(`${filePath} is not a JSON object of provider entries; ignored.`);
  return {};
}

/** Environment variables → entries: WHEREABOUTS_OAUTH_MICROSOFT_CLIENT_ID=… is the entry "microsoft". */
function entriesFromEnvironment(environment: NodeJS.ProcessEnv): Map<string, Record<string, string>> {
  const entries = new Map<string, Record<string, string>>();
  for (const [name, value] of Object.entries(environment)) {
    const match = /^WHEREABOUTS_OAUTH_([A-Z0-9_]+)_CLIENT_(ID|SECRET)$/.exec(name);
    if (!match || value === undefined || value === '' || name === CLIENTS_FILE_VARIABLE) continue;
    const id = match[1].toLowerCase().replaceAll('_', '-');
    const entry = entries.get(id) ?? {};
    entry[match[2] === 'ID' ? 'clientId' : 'clientSecret'] = value;
    entries.set(id, entry);
  }
  return entries;
}

export interface LoadOptions {
  /** Directories that may hold oauth-clients.json, lowest precedence first. */
  directories?: readonly string[];
  environment?: NodeJS.ProcessEnv;
}

/** Reads every source; entries that do not check out are skipped and listed in `problems`. */
export async function loadOAuthConfiguration(options: LoadOptions = {}): Promise<LoadedOAuthConfiguration> {
  const environment = options.environment ?? process.env;
  const problems: string[] = [];
  const explicitFile = environment[CLIENTS_FILE_VARIABLE];
  const files = explicitFile
    ? [explicitFile]
    : (options.directories ?? []).map((directory) => path.join(directory, CLIENTS_FILE_NAME));
  const merged = new Map<string, Record<string, unknown>>();
  for (const file of files) {
    for (const [id, entry] of Object.entries(await readEntries(file, problems))) {
      merged.set(id, isRecord(entry) ? { ...merged.get(id), ...entry } : { invalid: entry });
    }
  }
  for (const [id, entry] of entriesFromEnvironment(environment)) merged.set(id, { ...merged.get(id), ...entry });
  const providers: OAuthProviderConfig[] = [];
  for (const [id, entry] of merged) {
    try {
      providers.push(providerFromEntry(id, entry));
    } catch (error) {
      problems.push(`OAuth provider "${id}" skipped: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { configuration: createOAuthConfiguration(providers), problems };
}
