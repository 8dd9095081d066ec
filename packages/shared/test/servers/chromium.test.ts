import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumBrowser, isProcessAlive, launchChromium, skipUnless } from '../../src/testing/index.js';

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>form</title></head>
<body>
  <input id="name" type="text">
  <button id="greet" type="button">Greet</button>
  <p id="result"></p>
  <script>
    document.getElementById('greet').addEventListener('click', () => {
      const name = document.getElementById('name').value;
      document.getElementById('result').textContent = 'Hello, ' + name.toUpperCase() + '!';
    });
  </script>
</body></html>`;

describe.skipIf(skipUnless('chromium'))('launchChromium (real headless chromium)', () => {
  let chromium: ChromiumBrowser;
  let http: Server;
  let baseUrl: string;

  beforeAll(async () => {
    http = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/`;
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.stop();
    await new Promise((resolve) => http?.close(resolve));
  });

  it('loads a page, types into an input, clicks, and reads the result', async () => {
    const page = await chromium.browser.newPage();
    await page.goto(baseUrl);
    expect(await page.title()).toBe('form');
    await page.fill('#name', 'stratum');
    await page.click('#greet');
    await page.waitForSelector('#result:not(:empty)');
    expect(await page.textContent('#result')).toBe('Hello, STRATUM!');
    await page.close();
  });

  it('stop() closes the browser, ends its process and removes the fresh profile dir', async () => {
    expect(chromium.pid).toBeTypeOf('number');
    expect(chromium.userDataDir).toMatch(/playwright_chromiumdev_profile-/);
    expect(existsSync(chromium.userDataDir!)).toBe(true);
    await chromium.stop();
    expect(chromium.browser.isConnected()).toBe(false);
    expect(isProcessAlive(chromium.pid!)).toBe(false);
    expect(existsSync(chromium.userDataDir!)).toBe(false);
  });
});
