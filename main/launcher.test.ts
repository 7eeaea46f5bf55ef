/**
 * `npm start` as a user runs it: without a display and without Electron it serves browser mode
 * and prints the address with its key; Ctrl-C stops it cleanly. Plus the rule that decides
 * when to rebuild.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuildStale, newestModificationMs, NO_BUILD_OPTION, PROJECT_ROOT } from './launcher';

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'whereabouts-launcher-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('build freshness', () => {
  it('rebuilds when an output is missing or older than any input', () => {
    expect(isBuildStale(100, [200, 300])).toBe(false);
    expect(isBuildStale(250, [200, 300])).toBe(true);
    expect(isBuildStale(100, [200, null])).toBe(true);
  });

  it('looks at source files but not at tests', async () => {
    const tree = path.join(scratch, 'tree');
    await mkdir(path.join(tree, 'main'), { recursive: true });
    await writeFile(path.join(tree, 'main', 'service.ts'), '');
    await writeFile(path.join(tree, 'main', 'service.test.ts'), '');
    await utimes(path.join(tree, 'main', 'service.ts'), 1_000, 1_000);
    await utimes(path.join(tree, 'main', 'service.test.ts'), 5_000, 5_000);
    expect(await newestModificationMs(tree, ['main', 'missing.json'])).toBe(1_000_000);
  });
});

describe('npm start without Electron and without a display', () => {
  it('serves browser mode, prints the address with its key, and stops cleanly on Ctrl-C', async () => {
    const env = { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' };
    const child = spawn(
      path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'),
      ['main/launcher.ts', '--browser', NO_BUILD_OPTION, '--port', '0', '--profile', path.join(scratch, 'profile')],
      { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No address printed: ${output}`)), 20_000);
      child.stdout.on('data', () => {
        const match = /http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{20,}/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[0]);
        }
      });
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toContain('Whereabouts stopped.');
    await expect(fetch(url)).rejects.toThrow();
  });
});
