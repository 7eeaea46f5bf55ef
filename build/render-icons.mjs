// Renders build/icon.svg to the PNGs electron-builder packages (icon.png 512x512, which it also
// turns into .icns and .ico, and icons/256x256.png for Linux), with Debian's Chromium so the
// result matches how the SVG looks in the app. Run by hand after changing the SVG:
//   node build/render-icons.mjs
import { readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const buildDir = path.dirname(fileURLToPath(import.meta.url));
const SIZES_PX = [
  { size: 512, file: 'icon.png' },
  { size: 512, file: 'icons/512x512.png' },
  { size: 256, file: 'icons/256x256.png' },
];

const svg = await readFile(path.join(buildDir, 'icon.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  await mkdir(path.join(buildDir, 'icons'), { recursive: true });
  for (const { size, file } of SIZES_PX) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    const sized = svg.replace('width="512" height="512"', `width="${size}" height="${size}"`);
    await page.setContent(`<html><body style="margin:0;background:transparent">${sized}</body></html>`);
    await page.locator('svg').screenshot({ path: path.join(buildDir, file), omitBackground: true });
    await page.close();
  }
} finally {
  await browser.close();
}
