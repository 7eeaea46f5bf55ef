import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentTypeFor, readStaticFile, resolveStaticPath } from './static-files';

let base: string;
let root: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-static-'));
  root = path.join(base, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html>');
  await writeFile(path.join(root, 'assets', 'app.js'), 'export {};');
  await writeFile(path.join(root, '.env'), 'SECRET=1');
  await writeFile(path.join(base, 'secret.txt'), 'outside');
  await symlink(path.join(base, 'secret.txt'), path.join(root, 'assets', 'link.js'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('static files', () => {
  it('serves index.html for / and files under the folder with their type', async () => {
    expect((await readStaticFile(root, '/'))?.body.toString()).toBe('<!doctype html>');
    const script = await readStaticFile(root, '/assets/app.js');
    expect(script?.contentType).toBe('text/javascript; charset=utf-8');
    expect(script?.body.toString()).toBe('export {};');
  });

  it('refuses every way out of the folder', async () => {
    for (const attempt of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/index.html%00.js',
      '/%E0%A4%A',
      '/C:/Windows/win.ini',
    ]) {
      expect(resolveStaticPath(root, attempt), attempt).toBeNull();
      expect(await readStaticFile(root, attempt), attempt).toBeNull();
    }
  });

  it('does not follow a symbolic link out of the folder', async () => {
    expect(resolveStaticPath(root, '/assets/link.js')).not.toBeNull();
    expect(await readStaticFile(root, '/assets/link.js')).toBeNull();
  });

  it('hides dot files and answers folders and missing files with nothing', async () => {
    expect(await readStaticFile(root, '/.env')).toBeNull();
    expect(await readStaticFile(root, '/assets')).toBeNull();
    expect(await readStaticFile(root, '/missing.js')).toBeNull();
  });

  it('labels unknown types as opaque bytes, never as something a browser would run', () => {
    expect(contentTypeFor('x.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeFor('x.unknown')).toBe('application/octet-stream');
  });
});
