/**
 * The sample app in a real browser: Debian's chromium driven by playwright-core (no browser
 * download). Real cookies, a real cookie jar, real HttpOnly enforcement.
 *
 * No /usr/bin/chromium: the suite is skipped with a notice, except with CI=true, where it fails.
 * Install it with `apt-get install -y chromium`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { chromium, type Browser, type BrowserContext, type Cookie, type Page } from 'playwright-core';
import { AppModule } from '../../sample/app.module.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const COOKIE = 'sid';
/** Every browser action is bounded: a hung page fails the test instead of stalling the run. */
const ACTION_TIMEOUT = 5_000;
const SCENARIO_TIMEOUT = 20_000;

/** The little of the page's `window` that the tests touch. */
interface BrowserWindow {
  document: { cookie: string };
}

const haveChromium = existsSync(CHROMIUM);
const requireChromium = process.env.CI === 'true';

if (!haveChromium && !requireChromium) {
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `!!  SKIPPING the browser tests: ${CHROMIUM} not found.`,
      '!!  Install it with `apt-get install -y chromium` (with CI=true this is a failure).',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
}

const describeBrowser = haveChromium || requireChromium ? describe : describe.skip;

describeBrowser('sample app in chromium', () => {
  let app: INestApplication | undefined;
  let browser: Browser | undefined;
  let baseUrl: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(`CI=true and ${CHROMIUM} is missing: install chromium (apt-get install -y chromium).`);
    }
    app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  }, 60_000);

  afterAll(async () => {
    // Contexts first, then the browser, then the app; each even if an earlier one failed.
    await Promise.allSettled(contexts.map((context) => context.close()));
    await browser?.close().catch(() => undefined);
    await app?.close();
  }, 30_000);

  /** A fresh browser context (own cookie jar) with bounded timeouts. */
  async function newContext(): Promise<BrowserContext> {
    const context = await browser!.newContext({ baseURL: baseUrl });
    context.setDefaultTimeout(ACTION_TIMEOUT);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
    contexts.push(context);
    return context;
  }

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await newContext();
    return { context, page: await context.newPage() };
  }

  async function sessionCookie(context: BrowserContext): Promise<Cookie | undefined> {
    return (await context.cookies(baseUrl)).find((cookie) => cookie.name === COOKIE);
  }

  async function visits(page: Page): Promise<number> {
    return Number(await page.locator('#visits').textContent());
  }

  /**
   * `document.cookie`, read in the page. (The test compiles without the DOM lib, so the page's
   * global is typed here instead of adding DOM types to the whole project.)
   */
  const documentCookie = (page: Page) =>
    page.evaluate(() => (globalThis as unknown as BrowserWindow).document.cookie);

  /** The session ID inside a signed `<id>.<signature>` cookie value. */
  const idOf = (value: string) => value.slice(0, value.lastIndexOf('.'));

  it('counts visits across reloads', async () => {
    const { context, page } = await newPage();
    const first = await page.goto('/');
    expect(first?.status()).toBe(200);
    expect(await visits(page)).toBe(1);
    const cookie = await sessionCookie(context);
    expect(cookie).toBeDefined();

    await page.reload();
    expect(await visits(page)).toBe(2);
    await page.reload();
    expect(await visits(page)).toBe(3);
    // The same session all along: a counter change re-sends the cookie, but not a new ID.
    expect((await sessionCookie(context))?.value).toBe(cookie!.value);
  }, SCENARIO_TIMEOUT);

  it('gives the session a new cookie value on login and keeps its data', async () => {
    const { context, page } = await newPage();
    await page.goto('/');
    await page.reload();
    expect(await visits(page)).toBe(2);
    const before = (await sessionCookie(context))!.value;

    await page.getByLabel('Name').fill('  <b>Ada</b> & co  ');
    const [login] = await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === '/login'),
      page.getByRole('button', { name: 'Log in' }).click(),
    ]);
    expect(login.status()).toBe(303);
    await page.waitForURL(`${baseUrl}/`);

    // Trimmed, and shown as text: the markup in the name was escaped, not rendered.
    expect(await page.locator('#username').textContent()).toBe('<b>Ada</b> & co');
    expect(await page.locator('#username b').count()).toBe(0);
    // Data kept across the regeneration: two visits before, plus the page after the redirect.
    expect(await visits(page)).toBe(3);

    const after = (await sessionCookie(context))!.value;
    expect(after).not.toBe(before);
    expect(idOf(after)).not.toBe(idOf(before));
  }, SCENARIO_TIMEOUT);

  it('clears the session cookie on logout', async () => {
    const { context, page } = await newPage();
    await page.goto('/');
    await page.getByLabel('Name').fill('Grace');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.locator('#username').textContent()).resolves.toBe('Grace');
    const loggedIn = (await sessionCookie(context))!.value;

    // The logout button: POST /logout answers 303 with a clearing cookie. The browser then
    // follows to `/`, whose visit counter starts a new, anonymous session.
    const [logout] = await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === '/logout'),
      page.getByRole('button', { name: 'Log out', exact: true }).click(),
    ]);
    expect(logout.status()).toBe(303);
    expect(await logout.headerValue('set-cookie')).toMatch(new RegExp(`^${COOKIE}=;.*Max-Age=0`, 'i'));
    await page.waitForURL(`${baseUrl}/`);
    expect(await page.locator('#username').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Log in' }).count()).toBe(1);
    expect(await visits(page)).toBe(1);
    const fresh = (await sessionCookie(context))!.value;
    expect(idOf(fresh)).not.toBe(idOf(loggedIn));

    // With no page load after it (JSON logout from the page), the cookie is simply gone.
    const status = await page.evaluate(async () => (await fetch('/api/logout', { method: 'POST' })).status);
    expect(status).toBe(204);
    expect(await sessionCookie(context)).toBeUndefined();

    // The old logged-in cookie no longer opens the session: replaying it gets a new one.
    await context.addCookies([{ name: COOKIE, value: loggedIn, url: baseUrl }]);
    await page.reload();
    expect(await page.locator('#username').count()).toBe(0);
    expect(await visits(page)).toBe(1);
    expect(idOf((await sessionCookie(context))!.value)).not.toBe(idOf(loggedIn));
  }, SCENARIO_TIMEOUT);

  it('lists the user\'s active sessions and logs out everywhere else', async () => {
    const name = `grace-${Date.now()}`;
    const login = async (page: Page) => {
      await page.goto('/');
      await page.getByLabel('Name').fill(name);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${baseUrl}/`);
    };
    const laptop = await newPage();
    const phone = await newPage();
    await login(laptop.page);
    // The flash message shows once, on the page after the login redirect.
    expect(await laptop.page.locator('.notice').textContent()).toBe(`Welcome, ${name}.`);
    await login(phone.page);
    await laptop.page.reload();
    expect(await laptop.page.locator('.notice').count()).toBe(0);
    expect(await laptop.page.locator('#active-sessions tbody tr').count()).toBe(2);
    expect(await laptop.page.locator('#active-sessions tr.current').count()).toBe(1);

    await laptop.page.getByRole('button', { name: 'Log out everywhere else' }).click();
    await laptop.page.waitForURL(`${baseUrl}/`);
    expect(await laptop.page.locator('.notice').textContent()).toBe('Logged out 1 other session(s).');
    expect(await laptop.page.locator('#username').textContent()).toBe(name);
    expect(await laptop.page.locator('#active-sessions tbody tr').count()).toBe(1);

    // The other browser's cookie no longer names a session: it is logged out.
    await phone.page.reload();
    expect(await phone.page.locator('#username').count()).toBe(0);
    expect(await visits(phone.page)).toBe(1);
  }, SCENARIO_TIMEOUT);

  it('keeps the session cookie away from scripts (HttpOnly)', async () => {
    const { context, page } = await newPage();
    await page.goto('/');
    const cookie = await sessionCookie(context);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await documentCookie(page)).not.toContain(`${COOKIE}=`);
    // A script-set cookie is visible, so an empty document.cookie is not a blind spot.
    await page.evaluate(() => {
      (globalThis as unknown as BrowserWindow).document.cookie = 'probe=1; path=/';
    });
    expect(await documentCookie(page)).toBe('probe=1');
  }, SCENARIO_TIMEOUT);

  it('does not share the session between browser contexts', async () => {
    const first = await newPage();
    await first.page.goto('/');
    await first.page.reload();
    await first.page.getByLabel('Name').fill('Linus');
    await first.page.getByRole('button', { name: 'Log in' }).click();
    await expect(first.page.locator('#username').textContent()).resolves.toBe('Linus');
    expect(await visits(first.page)).toBe(3);

    const second = await newPage();
    await second.page.goto('/');
    expect(await visits(second.page)).toBe(1);
    expect(await second.page.locator('#username').count()).toBe(0);
    const a = (await sessionCookie(first.context))!.value;
    const b = (await sessionCookie(second.context))!.value;
    expect(idOf(b)).not.toBe(idOf(a));

    // And the first one is unaffected by the second.
    await first.page.reload();
    expect(await visits(first.page)).toBe(4);
  }, SCENARIO_TIMEOUT);

  it('serves the same session as JSON and rejects a bad username with 400', async () => {
    const { context, page } = await newPage();
    await page.goto('/');
    const call = (path: string, init?: { method: string; body?: unknown }) =>
      page.evaluate(
        async ({ path, init }) => {
          const response = await fetch(path, {
            method: init?.method ?? 'GET',
            headers: init?.body === undefined ? {} : { 'content-type': 'application/json' },
            body: init?.body === undefined ? undefined : JSON.stringify(init.body),
          });
          const text = await response.text();
          return { status: response.status, body: text ? JSON.parse(text) : null };
        },
        { path, init },
      );

    await expect(call('/api/session')).resolves.toEqual({ status: 200, body: { visits: 2, username: null } });

    const tooLong = await call('/api/login', { method: 'POST', body: { username: 'x'.repeat(41) } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toMatch(/1 to 40 characters/);
    const blank = await call('/api/login', { method: 'POST', body: { username: '   ' } });
    expect(blank.status).toBe(400);
    const missing = await call('/api/login', { method: 'POST', body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/username is required/);

    const before = (await sessionCookie(context))!.value;
    await expect(call('/api/login', { method: 'POST', body: { username: ' Ada ' } })).resolves.toEqual({
      status: 200,
      body: { visits: 2, username: 'Ada' },
    });
    expect(idOf((await sessionCookie(context))!.value)).not.toBe(idOf(before));

    // The page sees what the API did.
    await page.reload();
    expect(await page.locator('#username').textContent()).toBe('Ada');
    expect(await visits(page)).toBe(3);
  }, SCENARIO_TIMEOUT);
});
