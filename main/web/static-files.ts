/**
 * Serving the renderer bundle from a folder without ever leaving it: used by the loopback server
 * and by Electron's app:// protocol alike.
 */
import { realpath, readFile } from 'node:fs/promises';
import path from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(filePath: string): string {
  return CONTENT_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * The path inside `rootDir` for a URL path, or null when it would leave the folder or name a
 * hidden file. Checked on the decoded text, segment by segment, so `%2e%2e`, `..%2f`,
 * backslashes and NUL bytes are refused before any file system call.
 */
export function resolveStaticPath(rootDir: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((segment) => segment.length > 0);
  if (segments.some((segment) => segment === '..' || segment.startsWith('.') || segment.includes(':'))) return null;
  const relative = segments.length === 0 ? 'index.html' : segments.join('/');
  const root = path.resolve(rootDir);
  const resolved = path.resolve(root, relative);
  const inside = path.relative(root, resolved);
  if (inside.length === 0 || inside.startsWith('..') || path.isAbsolute(inside)) return null;
  return resolved;
}

export interface StaticFile {
  body: Buffer;
  contentType: string;
}

/** Reads a file for `urlPath`, or null when there is none to serve (missing, outside, a folder, a symlink out). */
export async function readStaticFile(rootDir: string, urlPath: string): Promise<StaticFile | null> {
  const resolved = resolveStaticPath(rootDir, urlPath);
  if (resolved === null) return null;
  try {
    // A symbolic link inside the folder could still point outside it: compare the real paths.
    const [realRoot, realFile] = await Promise.all([realpath(rootDir), realpath(resolved)]);
    const inside = path.relative(realRoot, realFile);
    if (inside.length === 0 || inside.startsWith('..') || path.isAbsolute(inside)) return null;
    return { body: await readFile(realFile), contentType: contentTypeFor(realFile) };
  } catch {
    // Missing files and folders (EISDIR) are simply not found.
    return null;
  }
}
