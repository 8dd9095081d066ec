import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { assertAvailable, findChromium } from './availability.js';
import { isProcessAlive, listChildren, once, processArgs, READY_TIMEOUT_MS, removeDir } from './process.js';

/** Quiet, offline-friendly flags: no sandbox (root in CI), no GPU, no calls home, no QUIC. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface ChromiumBrowser {
  browser: Browser;
  executablePath: string;
  /** The browser's main process, found via /proc (undefined where that is not available). */
  pid: number | undefined;
  /** The fresh profile playwright created under os.tmpdir() (it deletes it on close). */
  userDataDir: string | undefined;
  stop(): Promise<void>;
}

export interface ChromiumOptions {
  /** Defaults to Debian's /usr/bin/chromium, else chromium on PATH. */
  executablePath?: string;
  /** Appended to CHROMIUM_ARGS. */
  args?: string[];
  readyTimeoutMs?: number;
}

/**
 * Headless Debian chromium driven by playwright-core. playwright-core is imported here, lazily, so nothing in
 * the tools' runtime loads it. Playwright gives every launch a fresh temp profile and removes it on close.
 */
export async function launchChromium(opts: ChromiumOptions = {}): Promise<ChromiumBrowser> {
  if (!opts.executablePath) assertAvailable('chromium');
  const executablePath = opts.executablePath ?? findChromium()!;
  const { chromium } = await import('playwright-core');
  const before = new Set(listChildren(process.pid));
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    timeout: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
  });
  // Playwright does not expose the process of a launch(); it is the new child of this process with a profile dir.
  let pid: number | undefined;
  let userDataDir: string | undefined;
  for (const child of listChildren(process.pid)) {
    if (before.has(child)) continue;
    const dirArg = processArgs(child).find((a) => a.startsWith('--user-data-dir='));
    if (dirArg) {
      pid = child;
      userDataDir = dirArg.slice('--user-data-dir='.length);
    }
  }
  return {
    browser,
    executablePath,
    pid,
    userDataDir,
    stop: once(async () => {
      const closed = await Promise.race([
        browser.close().then(
          () => true,
          () => false,
        ),
        sleep(10_000, false),
      ]);
      if (!closed && pid !== undefined) {
        // Playwright starts chromium as a process group leader: take the renderers down with it.
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
      }
      for (let i = 0; pid !== undefined && isProcessAlive(pid) && i < 50; i++) await sleep(100);
      if (userDataDir) await removeDir(userDataDir);
    }),
  };
}
