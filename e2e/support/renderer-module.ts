/**
 * Bundles one renderer module (e.g. the mail sanitizer) into a script that puts its exports on
 * `window[globalName]`, so a spec can run the real module inside Chromium: our pure DOM code
 * needs a real browser, and no jsdom is installed (nor wanted: the sanitizer's safety depends on
 * the real HTML and CSS parsers).
 */
import path from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from './browser-app';

export async function bundleRendererModule(modulePath: string, globalName: string): Promise<string> {
  const absolute = path.resolve(PROJECT_ROOT, modulePath);
  const result = await build({
    stdin: {
      contents: `import * as exported from ${JSON.stringify(absolute)}; window[${JSON.stringify(globalName)}] = exported;`,
      resolveDir: PROJECT_ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}
