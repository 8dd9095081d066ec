import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumBrowser, launchChromium, skipUnless } from '../../shared/src/testing/index.js';
import { startWebForm } from '../src/adapters/web/server.js';
import { createContext } from '../src/core/context.js';
import { loadForm } from '../src/core/form.js';
import { fakeLlm } from './fake-llm.js';
import { bin, now, onboarding, repo, tmp } from './helpers.js';

function raw(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('web backend: the server side', () => {
  const ctx = createContext(loadForm(onboarding), { now });

  it('refuses other hosts, cross-site posts and posts without the CSRF token; serves a secret path only', async () => {
    const s = await startWebForm(ctx, {});
    try {
      const { origin, pathname } = new URL(s.url);
      expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await raw(s.url, {});
      expect(page.status).toBe(200);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
      expect((await raw(`${origin}/form/wrong-token`, {})).status).toBe(404);
      expect((await raw(`${origin}/`, {})).status).toBe(404);
      expect((await raw(s.url, { headers: { host: 'attacker.example' } })).status).toBe(421);
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const post = (body: string, headers: Record<string, string> = {}) =>
        raw(s.url, { method: 'POST', headers: { ...form, ...headers }, body });
      expect((await post('full_name=Ada')).status).toBe(403);
      expect((await post(`_csrf=${csrf}&full_name=Ada`, { origin: 'http://attacker.example' })).status).toBe(403);
      const bad = await post(`_csrf=${csrf}&full_name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&password=hunter2hunter2`);
      expect(bad.status).toBe(422);
      expect(bad.body).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
      expect(bad.body).not.toContain('<script>alert(1)');
      expect(bad.body).not.toContain('hunter2');
      expect(pathname).toMatch(/^\/form\/[A-Za-z0-9_-]{32}$/);
    } finally {
      await s.close();
    }
  });
});

/** Runs the binary serving a web form; resolves the page's address once it prints it. */
function serve(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd,
    env: { PATH: process.env.PATH, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const url = new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /Open (http:\/\/127\.0\.0\.1:\d+\/form\/\S+) in a browser/.exec(stderr);
      if (m) resolve(m[1] as string);
    });
    child.on('exit', () => reject(new Error(`exited early: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, url, exited, stdout: () => stdout, stderr: () => stderr };
}

describe.skipIf(skipUnless('chromium'))('web backend in headless chromium', () => {
  let chromium: ChromiumBrowser;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    chromium = await launchChromium();
  });
  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL');
    await chromium?.stop();
  });

  it('fill, submit, see the errors (a <script> stays text), fix, submit: the binary prints the result', async () => {
    const started = serve(['run', onboarding, '--backend', 'web', '--port', '0', '--timeout', '60'], repo, {
      HOME: repo,
    });
    child = started.child;
    const url = await started.url;
    const exited = started.exited;

    const page = await chromium.browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url);
    expect(await page.title()).toBe('Employee Onboarding');
    // conditions run in the page: skills only for engineering, office only when not remote
    await page.selectOption('#f-department', 'design');
    expect(await page.isHidden('#w-skills')).toBe(true);
    await page.selectOption('#f-department', 'engineering');
    expect(await page.isVisible('#w-skills')).toBe(true);
    await page.check('#w-remote input[value="yes"]');
    expect(await page.isHidden('#w-office')).toBe(true);

    await page.fill('#f-full_name', '<script>alert("pwned")</script>');
    await page.fill('#f-email', 'ADA@example.com');
    await page.fill('#f-username', 'ada');
    await page.fill('#f-password', 'short');
    await page.click('button[type=submit]');
    await page.waitForSelector('.summary');
    expect(await page.textContent('#e-email')).toBe('must be an @example.com address in lowercase');
    expect(await page.textContent('#e-password')).toBe('must be at least 12 characters');
    // The invalid border shows on text inputs too (it used to lose to input[type=text]'s own border).
    const border = (sel: string) =>
      page.$eval(sel, (el) => getComputedStyle(el as Element).getPropertyValue('border-top-color'));
    expect(await page.getAttribute('#f-email', 'type')).toBe('text');
    expect(await border('#f-email')).toBe('rgb(204, 0, 0)');
    expect(await border('#f-password')).toBe('rgb(204, 0, 0)');
    expect(await border('#f-username')).toBe('rgb(153, 153, 170)');
    // A styled submit button, and links to each section.
    expect(await page.$eval('button[type=submit]', (el) => getComputedStyle(el as Element).backgroundColor)).toBe(
      'rgb(11, 87, 208)',
    );
    expect(await page.$$eval('nav.sections a', (as) => as.map((a) => a.getAttribute('href')))).toEqual(
      expect.arrayContaining(['#s-personal']),
    );
    // A list field's help names one way to write items.
    expect(await page.textContent('#h-ssh_keys')).toBe('Paste the public keys · one item per line');
    expect(await page.inputValue('#f-full_name')).toBe('<script>alert("pwned")</script>');
    expect(await page.inputValue('#f-password')).toBe(''); // never sent back
    expect(dialogs).toEqual([]);

    await page.fill('#f-full_name', 'Ada Lovelace');
    await page.fill('#f-email', 'ada@example.com');
    await page.fill('#f-password', 'correct horse battery');
    await page.check('#w-skills input[value="rust"]');
    await page.check('#w-skills input[value="go"]');
    await page.fill('#f-start_date', '2026-04-01');
    await page.click('button[type=submit]');
    await page.waitForSelector('#done');
    expect(await page.textContent('h1')).toBe('Thank you');

    expect(await exited).toBe(0);
    expect(JSON.parse(started.stdout())).toEqual({
      full_name: 'Ada Lovelace',
      email: 'ada@example.com',
      department: 'engineering',
      skills: ['rust', 'go'],
      start_date: '2026-04-01',
      remote: true,
      username: 'ada',
      password: 'correct horse battery',
    });
    await page.close();
  });

  it("agent run --form --backend web: the agent's variables asked on the page, then the call and its validated output", async () => {
    const server = await fakeLlm(() => ({ text: JSON.stringify({ issues: [], summary: 'clean' }) }));
    try {
      const dir = tmp();
      writeFileSync(join(dir, 'typedialog.toml'), `[providers.anthropic]\nbase_url = "${server.url}"\n`);
      const agent = join(repo, 'examples', 'agents', 'code_reviewer.agent.mdx');
      const form = join(repo, 'examples', 'forms', 'code_review.toml');
      const args = ['agent', 'run', agent, '--form', form, '--backend', 'web', '--port', '0', '--timeout', '60'];
      const started = serve(args, dir, { HOME: dir, TYPEDIALOG_DATA_DIR: join(dir, 'data') });
      child = started.child;
      const page = await chromium.browser.newPage();
      await page.goto(await started.url);
      await page.selectOption('#f-language', 'go');
      await page.fill('#f-code', 'func main() {}');
      await page.click('button[type=submit]');
      await page.waitForSelector('#done');
      expect(await started.exited).toBe(0);
      expect(JSON.parse(started.stdout())).toEqual({ issues: [], summary: 'clean' });
      const sent = server.requests[0]?.body.messages as { content: string }[] | undefined;
      expect(sent?.[0]?.content).toContain('```go\nfunc main() {}\n```');
      await page.close();
    } finally {
      await server.close();
    }
  });
});
