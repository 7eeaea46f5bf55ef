/**
 * Remote images a user chose to load for a message ("load remote content"). The renderer makes no
 * network request at all (its CSP and Electron's request filter forbid it); main fetches each
 * image here, with limits, and hands it back as a data: URL.
 *
 * Addresses on this computer or the local network are refused by default: a message must not be
 * able to make the client probe the user's router or a service on localhost.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { RemoteImages } from '../../shared/api';

/** At most this many images per request, each at most this large, each within this time. */
export const MAX_REMOTE_IMAGES = 50;
export const MAX_REMOTE_IMAGE_BYTES = 5 * 1024 * 1024;
export const REMOTE_IMAGE_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 3;

export interface RemoteContentOptions {
  /** Tests serve images from a loopback server; the app never sets this. */
  allowPrivateNetwork?: boolean;
}

/** Loopback, private (RFC 1918, RFC 4193), link-local, CGNAT and unspecified addresses. */
export function isPrivateAddress(address: string): boolean {
  if (isIP(address) === 4) {
    const [a, b] = address.split('.').map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168)
    );
  }
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:')) return isPrivateAddress(lower.slice('::ffff:'.length));
  return (
    lower === '::' || lower === '::1' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80')
  );
}

async function checkDestination(url: URL, options: RemoteContentOptions): Promise<void> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('only http and https images are loaded');
  if (options.allowPrivateNetwork) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((entry) => entry.address);
  if (addresses.some(isPrivateAddress)) throw new Error('the address is on this computer or the local network');
}

async function fetchImage(start: string, options: RemoteContentOptions): Promise<string> {
  let url = new URL(start);
  for (let redirects = 0; ; redirects++) {
    await checkDestination(url, options);
    const response = await fetch(url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(REMOTE_IMAGE_TIMEOUT_MS),
      headers: { accept: 'image/*' },
    });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      if (redirects >= MAX_REDIRECTS) throw new Error('too many redirects');
      url = new URL(location, url);
      continue;
    }
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    // SVG can carry script; only raster formats become data: URLs.
    if (!/^image\/(png|jpeg|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon)$/.test(type)) {
      throw new Error(`not an image this client shows (${type || 'no type'})`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > MAX_REMOTE_IMAGE_BYTES) throw new Error('larger than 5 MB');
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    return `data:${type};base64,${Buffer.concat(chunks).toString('base64')}`;
  }
}

export async function fetchRemoteImages(
  urls: readonly string[],
  options: RemoteContentOptions = {},
): Promise<RemoteImages> {
  const result: RemoteImages = { images: {}, failed: [] };
  const unique = [...new Set(urls)].slice(0, MAX_REMOTE_IMAGES);
  await Promise.all(
    unique.map(async (url) => {
      try {
        result.images[url] = await fetchImage(url, options);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        result.failed.push({ url, reason: reason === 'fetch failed' ? 'the server could not be reached' : reason });
      }
    }),
  );
  return result;
}
