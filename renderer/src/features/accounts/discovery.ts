/**
 * Server settings for a new address, found by the service (main/accounts/autoconfig.ts: the
 * provider's autoconfig document, then DNS SRV records, RFC 6186/8314), and the provider preset
 * for the big providers (lookUpProvider: which servers, and whether to sign in in the browser).
 * Both are asked at once; either failing only means the form falls back to the usual names at
 * the domain, marked as a guess.
 */
import type { DiscoveredServer, DiscoveredSettings, MailApi, ProviderView } from '../../../../shared/api';

export type { DiscoveredServer, DiscoveredSettings, ProviderView };

export type DiscoveryOutcome =
  { kind: 'found'; settings: DiscoveredSettings } | { kind: 'unavailable'; reason: string };

export interface LookupOutcome {
  discovery: DiscoveryOutcome;
  provider: ProviderView | null;
}

export async function discoverServerSettings(api: MailApi, email: string): Promise<DiscoveryOutcome> {
  try {
    const settings = await api.discoverSettings({ email });
    if (settings.imap.length + settings.pop3.length === 0) {
      return {
        kind: 'unavailable',
        reason: settings.reasons.join(' ') || 'No server settings were published for this domain.',
      };
    }
    return { kind: 'found', settings };
  } catch {
    return { kind: 'unavailable', reason: 'The server settings could not be looked up.' };
  }
}

/** Provider preset and published settings together; a failed provider lookup is just "no preset". */
export async function lookUpAddress(api: MailApi, email: string): Promise<LookupOutcome> {
  const [discovery, provider] = await Promise.all([
    discoverServerSettings(api, email),
    api.lookUpProvider({ email }).catch(() => null),
  ]);
  return { discovery, provider };
}
