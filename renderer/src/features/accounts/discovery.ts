/**
 * THE HOOK FOR AUTOMATIC SETTINGS DISCOVERY.
 *
 * The service can find server settings from the email domain (main/accounts/autoconfig.ts:
 * the provider's autoconfig document, then DNS SRV records, RFC 6186/8314), but the contract in
 * shared/api.ts has no method for it yet. The method asked for is
 *
 *   discoverSettings(request: { email: string }): Promise<DiscoveredSettings>
 *
 * with DiscoveredSettings as declared below (the shape of AutoconfigResult). Once it exists, this
 * function calls `api.discoverSettings({ email })` and everything else (prefilling the form,
 * showing where the settings came from) already works. Until then it answers "not available"
 * and the form offers the usual server names at the domain, marked as a guess.
 */
import type { MailApi } from '../../../../shared/api';
import type { Security } from '../../../../shared/model';

export interface DiscoveredServer {
  protocol: 'imap' | 'pop3' | 'smtp';
  host: string;
  port: number;
  security: Security;
  username: string | null;
  /** Where this came from: an autoconfig URL or an SRV name. */
  source: string;
}

export interface DiscoveredSettings {
  email: string;
  displayName: string | null;
  /** Candidates per protocol, best first. */
  imap: DiscoveredServer[];
  pop3: DiscoveredServer[];
  smtp: DiscoveredServer[];
  /** Why each source gave nothing, in words. */
  reasons: string[];
}

export type DiscoveryOutcome =
  { kind: 'found'; settings: DiscoveredSettings } | { kind: 'unavailable'; reason: string };

export async function discoverServerSettings(api: MailApi, email: string): Promise<DiscoveryOutcome> {
  const method = (
    api as Partial<Record<'discoverSettings', (request: { email: string }) => Promise<DiscoveredSettings>>>
  ).discoverSettings;
  if (typeof method !== 'function') {
    return { kind: 'unavailable', reason: 'Automatic lookup of server settings is not available in this version.' };
  }
  try {
    return { kind: 'found', settings: await method.call(api, { email }) };
  } catch {
    return { kind: 'unavailable', reason: 'The server settings could not be looked up.' };
  }
}
