import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverSettings, fetchConfigText, type AutoconfigOptions, type SrvRecord } from './autoconfig';
import { parseXml } from './autoconfig-xml';

const CONFIG = `<?xml version="1.0" encoding="UTF-8"?>
<!-- served the way providers publish it -->
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <displayName>Example &amp; Co Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
      <authentication>OAuth2</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname>
      <port>110</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="exchange">
      <hostname>ews.example.test</hostname>
      <port>443</port>
      <socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>587</port>
      <socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication><![CDATA[password-cleartext]]></authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
`;

interface Served {
  status: number;
  body: string;
}

/** A loopback HTTP server standing in for autoconfig.DOMAIN and DOMAIN, by request path. */
let server: http.Server;
let baseUrl: string;
const routes = new Map<string, Served>();
const requests: string[] = [];

beforeAll(async () => {
  server = http.createServer((request, response) => {
    requests.push(request.url ?? '');
    const served = routes.get((request.url ?? '').split('?')[0]);
    response.writeHead(served?.status ?? 404, { 'content-type': 'application/xml' });
    response.end(served?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sends the real HTTPS URLs to the loopback server: path by host, so both sources are distinguishable. */
function loopbackFetch(url: string, signal: AbortSignal): Promise<string> {
  const parsed = new URL(url);
  const prefix = parsed.hostname.startsWith('autoconfig.') ? '/autoconfig-host' : '/domain-host';
  return fetchConfigText(`${baseUrl}${prefix}${parsed.pathname}${parsed.search}`, signal);
}

const noSrv: AutoconfigOptions['resolveSrv'] = async () => {
  throw Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' });
};

describe('discoverSettings', () => {
  it('reads IMAP, POP3 and SMTP from the autoconfig document, filling in the placeholders', async () => {
    routes.clear();
    requests.length = 0;
    routes.set('/autoconfig-host/mail/config-v1.1.xml', { status: 200, body: CONFIG });

    const result = await discoverSettings('Alice.Smith@example.test', { fetchText: loopbackFetch, resolveSrv: noSrv });

    expect(result.displayName).toBe('Example & Co Mail');
    expect(result.imap).toEqual([
      {
        protocol: 'imap',
        host: 'imap.example.test',
        port: 993,
        security: 'tls',
        username: 'Alice.Smith@example.test',
        authentication: ['password-cleartext', 'OAuth2'],
        source: 'https://autoconfig.example.test/mail/config-v1.1.xml?emailaddress=Alice.Smith%40example.test',
      },
    ]);
    expect(result.pop3).toMatchObject([
      { host: 'pop.example.test', port: 110, security: 'starttls', username: 'Alice.Smith' },
    ]);
    expect(result.smtp).toMatchObject([
      {
        host: 'smtp.example.test',
        port: 587,
        security: 'starttls',
        username: 'Alice.Smith@example.test',
        authentication: ['password-cleartext'],
      },
    ]);
    // The provider learns which address is being set up (that is what the query is for).
    expect(requests).toContain('/autoconfig-host/mail/config-v1.1.xml?emailaddress=Alice.Smith%40example.test');
    expect(result.reasons.join('\n')).toMatch(/incoming server type "exchange" is not supported/);
  });

  it('falls back to the .well-known document on the domain itself', async () => {
    routes.clear();
    routes.set('/domain-host/.well-known/autoconfig/mail/config-v1.1.xml', { status: 200, body: CONFIG });
    const result = await discoverSettings('bob@example.test', { fetchText: loopbackFetch, resolveSrv: noSrv });
    expect(result.imap.map((entry) => entry.source)).toEqual([
      'https://example.test/.well-known/autoconfig/mail/config-v1.1.xml',
    ]);
    expect(result.reasons.join('\n')).toMatch(/autoconfig\.example\.test.*HTTP 404/);
  });

  it('uses RFC 6186 SRV records, implicit TLS first and by priority, skipping "." targets', async () => {
    const records: Record<string, SrvRecord[]> = {
      '_imaps._tcp.example.test': [
        { name: 'imap2.example.test', port: 993, priority: 20, weight: 0 },
        { name: 'imap1.example.test.', port: 993, priority: 10, weight: 0 },
      ],
      '_imap._tcp.example.test': [{ name: 'imap1.example.test', port: 143, priority: 0, weight: 0 }],
      '_pop3s._tcp.example.test': [{ name: '.', port: 0, priority: 0, weight: 0 }],
      '_submission._tcp.example.test': [{ name: 'smtp.example.test', port: 587, priority: 0, weight: 0 }],
    };
    const asked: string[] = [];
    const result = await discoverSettings('carol@example.test', {
      fetchText: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      resolveSrv: async (name) => {
        asked.push(name);
        const found = records[name];
        if (!found) throw Object.assign(new Error(`querySrv ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
        return found;
      },
    });
    expect(asked.sort()).toEqual(
      ['_imap', '_imaps', '_pop3', '_pop3s', '_submission', '_submissions']
        .map((service) => `${service}._tcp.example.test`)
        .sort(),
    );
    expect(result.imap.map((entry) => `${entry.host}:${entry.port}/${entry.security}`)).toEqual([
      'imap1.example.test:993/tls',
      'imap2.example.test:993/tls',
      'imap1.example.test:143/starttls',
    ]);
    expect(result.pop3).toEqual([]);
    expect(result.smtp).toMatchObject([{ host: 'smtp.example.test', port: 587, security: 'starttls', username: null }]);
    expect(result.reasons.join('\n')).toMatch(/ECONNREFUSED/);
  });

  it('gives an empty result with reasons for broken XML, a hostile DOCTYPE, a timeout, or a bad address', async () => {
    routes.clear();
    routes.set('/autoconfig-host/mail/config-v1.1.xml', {
      status: 200,
      body: CONFIG.replace('</incomingServer>', '</incomingServr>'),
    });
    routes.set('/domain-host/.well-known/autoconfig/mail/config-v1.1.xml', {
      status: 200,
      body: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><clientConfig>&lol;</clientConfig>`,
    });
    const broken = await discoverSettings('dave@example.test', { fetchText: loopbackFetch, resolveSrv: noSrv });
    expect([...broken.imap, ...broken.pop3, ...broken.smtp]).toEqual([]);
    const reasons = broken.reasons.join('\n');
    expect(reasons).toMatch(/autoconfig\.example\.test.*<\/incomingServr> closes <incomingServer>/);
    expect(reasons).toMatch(/\.well-known.*Document type declarations are not accepted/);
    expect(reasons).toMatch(/no SRV records/);

    const started = performance.now();
    const slow = await discoverSettings('erin@example.test', {
      fetchText: (_url, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      resolveSrv: () => new Promise(() => undefined),
      timeoutMs: 200,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(slow.imap).toEqual([]);
    expect(slow.reasons.join('\n')).toMatch(/no answer in time/);

    const invalid = await discoverSettings('no address here', { fetchText: loopbackFetch, resolveSrv: noSrv });
    expect(invalid.imap).toEqual([]);
    expect(invalid.reasons.join('\n')).toMatch(/not an email address/);
  });
});

describe('parseXml', () => {
  it('decodes entities and character references, and refuses unknown entities', () => {
    const root = parseXml(`<a x="1 &lt; 2"><b>caf&#233; &#x263A;</b></a>`);
    expect(root.attributes.get('x')).toBe('1 < 2');
    expect(root.children[0].text).toBe('café ☺');
    expect(() => parseXml('<a>&nbsp;</a>')).toThrow(/Unknown entity/);
    expect(() => parseXml('<a><b></a>')).toThrow(/closes <b>/);
    expect(() => parseXml('<a></a><b></b>')).toThrow(/after the root element/);
    expect(() => parseXml(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`)).toThrow(/nested too deeply/);
  });
});
