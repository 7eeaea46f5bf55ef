/**
 * Answers app://whereabouts/… requests from the built renderer folder, with the same CSP and
 * security headers the loopback server sends. A Fetch API Response, so it is what
 * `protocol.handle` wants and testable under plain Node.
 */
import { securityHeaders } from '../web/csp';
import { readStaticFile } from '../web/static-files';
import { APP_HOST, APP_SCHEME } from './app-origin';

function plainResponse(status: number, text: string): Response {
  return new Response(`${text}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
}

export async function appProtocolResponse(
  request: { url: string; method: string },
  rendererDir: string,
): Promise<Response> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return plainResponse(400, 'Bad URL.');
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return plainResponse(404, 'Not found.');
  if (request.method !== 'GET' && request.method !== 'HEAD') return plainResponse(405, 'Only GET and HEAD.');
  const file = await readStaticFile(rendererDir, url.pathname);
  if (file === null) return plainResponse(404, 'Not found.');
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(file.body), {
    status: 200,
    headers: { ...securityHeaders('electron'), 'Content-Type': file.contentType },
  });
}
