import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRemoteImages, isPrivateAddress, MAX_REMOTE_IMAGE_BYTES } from './remote-content';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case '/pixel.png':
        response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
        return;
      case '/moved':
        response.writeHead(302, { location: '/pixel.png' }).end();
        return;
      case '/vector.svg':
        response.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg onload="alert(1)"/>');
        return;
      case '/huge.png':
        response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(MAX_REMOTE_IMAGE_BYTES + 1));
        return;
      default:
        response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

describe('remote images fetched by main', () => {
  it('returns raster images as data: URLs, following a redirect', async () => {
    const result = await fetchRemoteImages([`${base}/pixel.png`, `${base}/moved`], { allowPrivateNetwork: true });
    expect(result.failed).toEqual([]);
    expect(result.images[`${base}/pixel.png`]).toBe(`data:image/png;base64,${PNG.toString('base64')}`);
    expect(result.images[`${base}/moved`]).toBe(result.images[`${base}/pixel.png`]);
  });

  it('refuses SVG (it can carry script), oversized images, missing ones and other schemes, with reasons', async () => {
    const urls = [
      `${base}/vector.svg`,
      `${base}/huge.png`,
      `${base}/missing.png`,
      'file:///etc/passwd',
      'javascript:alert(1)',
    ];
    const result = await fetchRemoteImages(urls, { allowPrivateNetwork: true });
    expect(result.images).toEqual({});
    const reasons = Object.fromEntries(result.failed.map((failure) => [failure.url, failure.reason]));
    expect(reasons[`${base}/vector.svg`]).toMatch(/not an image/);
    expect(reasons[`${base}/huge.png`]).toMatch(/larger than 5 MB/);
    expect(reasons[`${base}/missing.png`]).toMatch(/404/);
    expect(reasons['file:///etc/passwd']).toMatch(/only http and https/);
    expect(reasons['javascript:alert(1)']).toMatch(/only http and https/);
  });

  it('never lets a message make this computer request its own or the local network', async () => {
    const result = await fetchRemoteImages([`${base}/pixel.png`, 'http://[::1]/x.png', 'http://192.168.1.1/x.png']);
    expect(result.images).toEqual({});
    expect(result.failed.map((failure) => failure.reason)).toEqual([
      'the address is on this computer or the local network',
      'the address is on this computer or the local network',
      'the address is on this computer or the local network',
    ]);
    expect(['10.1.2.3', '172.20.0.1', '169.254.1.1', 'fd00::1', '::ffff:127.0.0.1'].every(isPrivateAddress)).toBe(true);
    expect(['93.184.216.34', '2606:4700::1111'].some(isPrivateAddress)).toBe(false);
  });
});
