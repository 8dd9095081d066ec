import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChromiumBrowser, launchChromium, skipUnless } from '../../shared/src/testing/index.js';
import { type Served, serve } from '../src/server/main.js';
import { config, tempDir, waitFor } from './helpers.js';

/** Screenshots for a person to look at: test-artifacts/ at the repository root (not committed). */
const ARTIFACTS = join(import.meta.dirname, '..', '..', '..', 'test-artifacts');

describe.skipIf(skipUnless('chromium'))('the Kanban board in headless chromium', { timeout: 120_000 }, () => {
  let chromium: ChromiumBrowser;
  let s: Served;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await serve({
      config: config({ storage: { path: join(tempDir(), 'vapora.db') }, budgets: { security: { monthly: 5000 } } }),
      host: '127.0.0.1',
      port: 0,
      coordinatorMs: { dispatch: 100, sweep: 60_000 },
    });
    const svc = s.runtime.service;
    tokens.admin = (await svc.createToken({ name: 'alice', role: 'admin' })).token;
    tokens.ops = (await svc.createToken({ name: 'bob', role: 'operator' })).token;
    tokens.viewer = (await svc.createToken({ name: 'dash', role: 'viewer' })).token;
    // A monitor agent whose work takes a while (the card stays in doing); a devops one (its work waits for approval).
    await svc.addAgent({ role: 'monitor', id: 'mon-1', provider: 'exec', command: 'sleep 60' });
    await svc.addAgent({ role: 'devops', id: 'dev-1', provider: 'exec', command: 'echo deployed' });
    chromium = await launchChromium();
  });
  afterAll(async () => {
    await chromium?.stop();
    await s?.close();
  });

  async function open(token: string): Promise<Page> {
    const ctx = await chromium.browser.newContext({ viewport: { width: 1400, height: 800 } });
    const page = await ctx.newPage();
    await page.goto(`${s.address}/kanban`);
    await page.fill('#token', token);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#board .col');
    return page;
  }
  const column = (page: Page, col: string) =>
    page.$$eval(`.col[data-col="${col}"] .card`, (cards) => cards.map((c) => (c as HTMLElement).dataset.id));

  it('drag a card from todo to doing: it is persisted and a second board sees it without reloading', async () => {
    const svc = s.runtime.service;
    const t = await svc.createTask({ title: 'Check db-1', type: 'health_check', role: 'monitor', priority: 'high' });
    const a = await open(tokens.admin!);
    const b = await open(tokens.ops!);
    const loadedAt = await b.evaluate(() => (window as unknown as { vaporaBoardLoadedAt: number }).vaporaBoardLoadedAt);
    await a.waitForSelector(`.col[data-col="todo"] .card[data-id="${t.id}"]`);
    await a.dragAndDrop(`.card[data-id="${t.id}"]`, '.col[data-col="doing"]');
    await waitFor(async () => (await svc.getTask(t.id)).status === 'doing', 10_000, 'the move to be stored');
    expect((await svc.getTask(t.id)).agentId).toBe('mon-1');
    // Pushed to the other board (Server-Sent Events): no reload, the same page load.
    await b.waitForSelector(`.col[data-col="doing"] .card[data-id="${t.id}"]`, { timeout: 45_000 });
    expect(await b.evaluate(() => (window as unknown as { vaporaBoardLoadedAt: number }).vaporaBoardLoadedAt)).toBe(
      loadedAt,
    );
    // Keyboard: a focused card moves with the arrow keys (done → failed here).
    const k = await svc.createTask({ title: 'Rotate certs', type: 'cert_rotation', role: 'monitor' });
    await svc.updateTask(k.id, { status: 'done' });
    await a.waitForSelector(`.col[data-col="done"] .card[data-id="${k.id}"]`);
    await a.focus(`.card[data-id="${k.id}"]`);
    await a.keyboard.press('ArrowRight');
    await waitFor(async () => (await svc.getTask(k.id)).status === 'failed', 10_000, 'the keyboard move');
    await a.waitForSelector(`.col[data-col="failed"] .card[data-id="${k.id}"]:focus`);
    // Someone else's change re-renders the board: the keyboard user's card keeps the focus.
    const other = await svc.createTask({ title: 'Renew leases', type: 'lease_renewal', role: 'monitor' });
    await a.waitForSelector(`.card[data-id="${other.id}"]`);
    await a.waitForSelector(`.col[data-col="failed"] .card[data-id="${k.id}"]:focus`, { timeout: 45_000 });
    await a.screenshot({ path: join(ARTIFACTS, 'vapora-board.png'), fullPage: true });
  });

  it('approve a waiting card from the board; a viewer sees no buttons and cannot drag', async () => {
    const svc = s.runtime.service;
    const t = await svc.createTask({ title: 'Deploy api 1.4.2', type: 'deploy', role: 'devops' });
    await svc.assign(t.id); // devops: waits for approval
    const a = await open(tokens.ops!);
    await a.waitForSelector(`.col[data-col="awaiting_approval"] .card[data-id="${t.id}"] button.approve`);
    const viewer = await open(tokens.viewer!);
    await viewer.waitForSelector(`.col[data-col="awaiting_approval"] .card[data-id="${t.id}"]`);
    expect(await viewer.$$('button.approve, button.reject')).toHaveLength(0);
    expect(await viewer.$$eval('.card', (cs) => cs.filter((c) => (c as HTMLElement).draggable).length)).toBe(0);
    expect(await viewer.textContent('#me')).toBe('dash (viewer)');
    await a.click(`.card[data-id="${t.id}"] button.approve`);
    await waitFor(async () => (await svc.getTask(t.id)).status === 'done', 10_000, 'the approved task to run');
    await viewer.waitForSelector(`.col[data-col="done"] .card[data-id="${t.id}"]`, { timeout: 45_000 });
    expect(await column(viewer, 'awaiting_approval')).not.toContain(t.id);
  });

  it('budget gauges: normal, then exceeded (screenshot); a wrong token is sent back to sign in', async () => {
    const page = await open(tokens.admin!);
    await page.waitForSelector('.gauge.normal');
    await s.runtime.service.setBudget('security', { monthly: 0 });
    await page.waitForSelector('.gauge.exceeded', { timeout: 45_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'vapora-board-budget-exceeded.png'), fullPage: true });
    const ctx = await chromium.browser.newContext();
    const bad = await ctx.newPage();
    await bad.goto(`${s.address}/`);
    await bad.fill('#token', 'vapora_not_a_token');
    await bad.click('#login button[type=submit]');
    await bad.waitForSelector('#loginerr:has-text("refused")');
    expect(await bad.isVisible('#app')).toBe(false);
  });
});
