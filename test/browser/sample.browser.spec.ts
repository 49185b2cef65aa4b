/**
 * The sample app in a real browser: Debian's chromium driven by playwright-core (no browser
 * download). Real cookies, a real cookie jar, real HttpOnly enforcement.
 *
 * No /usr/bin/chromium: the suite is skipped with a notice, except with CI=true, where it fails.
 * Install it with `apt-get install -y chromium`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** A phone's viewport (iPhone 12-15 in CSS pixels). */
const PHONE = { width: 390, height: 844 };
/** A CSRF token as `sessionService.csrfToken()` makes it: 64 bytes, unpadded base64url. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{86}$/;

/** The little of the page's `window` that the tests touch. */
interface BrowserWindow {
  document: {
    cookie: string;
    documentElement: { scrollWidth: number };
    querySelectorAll(selector: string): ArrayLike<{ remove(): void }>;
  };
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
  /** Screenshots go here; removed afterwards unless KEEP_SCREENSHOTS=1 (then its path is printed). */
  let screenshots: string | undefined;

  beforeAll(async () => {
    if (!haveChromium) {
      throw new Error(`CI=true and ${CHROMIUM} is missing: install chromium (apt-get install -y chromium).`);
    }
    screenshots = mkdtempSync(join(tmpdir(), 'sample-browser-'));
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
    if (screenshots === undefined) return;
    if (process.env.KEEP_SCREENSHOTS === '1') console.log(`Sample screenshots kept in ${screenshots}`);
    else rmSync(screenshots, { recursive: true, force: true });
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

  /** `fetch` from the page (same origin, the browser's own cookies), answering status and JSON body. */
  const call = (page: Page, path: string, init?: { method: string; body?: unknown; token?: string }) =>
    page.evaluate(
      async ({ path, init }) => {
        const headers: Record<string, string> = {};
        if (init?.body !== undefined) headers['content-type'] = 'application/json';
        if (init?.token !== undefined) headers['x-csrf-token'] = init.token;
        const response = await fetch(path, {
          method: init?.method ?? 'GET',
          headers,
          body: init?.body === undefined ? undefined : JSON.stringify(init.body),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : null };
      },
      { path, init },
    );

  /** The token in a form's hidden `_csrf` field. */
  const formToken = (page: Page, action: string) => page.locator(`form[action="${action}"] input[name="_csrf"]`).inputValue();

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
    const { body: session } = await call(page, '/api/session');
    const { status } = await call(page, '/api/logout', { method: 'POST', token: session.csrfToken });
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

  it('serves the same session as JSON, with a CSRF token for its POSTs, and rejects a bad username with 400', async () => {
    const { context, page } = await newPage();
    await page.goto('/');

    const shown = await call(page, '/api/session');
    expect(shown).toEqual({ status: 200, body: { visits: 2, username: null, csrfToken: expect.stringMatching(TOKEN_SHAPE) } });
    const token = shown.body.csrfToken as string;
    const post = (body: unknown) => call(page, '/api/login', { method: 'POST', body, token });

    const tooLong = await post({ username: 'x'.repeat(41) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.message).toMatch(/1 to 40 characters/);
    const blank = await post({ username: '   ' });
    expect(blank.status).toBe(400);
    const missing = await post({});
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/username is required/);

    const before = (await sessionCookie(context))!.value;
    const login = await post({ username: ' Ada ' });
    expect(login).toEqual({ status: 200, body: { visits: 2, username: 'Ada', csrfToken: expect.stringMatching(TOKEN_SHAPE) } });
    expect(idOf((await sessionCookie(context))!.value)).not.toBe(idOf(before));
    // The login rotated the secret: the token from before it is refused, the one it returned works.
    expect((await call(page, '/api/logout', { method: 'POST', token })).status).toBe(403);

    // The page sees what the API did.
    await page.reload();
    expect(await page.locator('#username').textContent()).toBe('Ada');
    expect(await visits(page)).toBe(3);
    expect((await call(page, '/api/logout', { method: 'POST', token: login.body.csrfToken })).status).toBe(204);
  }, SCENARIO_TIMEOUT);

  it('posts the CSRF token with the login form, and requires a fresh one after login', async () => {
    const { page } = await newPage();
    await page.goto('/');
    const token = await formToken(page, '/login');
    expect(token).toMatch(TOKEN_SHAPE);
    expect(await page.locator('form[action="/login"] input[name="_csrf"]').getAttribute('type')).toBe('hidden');
    // Masked afresh on every page: the same secret never shows the same bytes twice.
    await page.reload();
    const reloaded = await formToken(page, '/login');
    expect(reloaded).toMatch(TOKEN_SHAPE);
    expect(reloaded).not.toBe(token);

    await page.getByLabel('Name').fill('Ada');
    const [request] = await Promise.all([
      page.waitForRequest((req) => new URL(req.url()).pathname === '/login' && req.method() === 'POST'),
      page.getByRole('button', { name: 'Log in' }).click(),
    ]);
    expect(new URLSearchParams(request.postData() ?? '').get('_csrf')).toBe(reloaded);
    expect((await request.response())?.status()).toBe(303);
    await page.waitForURL(`${baseUrl}/`);
    expect(await page.locator('#username').textContent()).toBe('Ada');

    // The page after the login carries a token of the new secret; the pre-login one is refused.
    const after = await formToken(page, '/logout');
    expect(after).toMatch(TOKEN_SHAPE);
    expect((await call(page, '/api/logout', { method: 'POST', token: reloaded })).status).toBe(403);
    await page.reload();
    expect(await page.locator('#username').textContent()).toBe('Ada');
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.waitForURL(`${baseUrl}/`);
    expect(await page.locator('#username').count()).toBe(0);
  }, SCENARIO_TIMEOUT);

  it('refuses a POST without the token with 403 (form and fetch), changing nothing', async () => {
    const { context, page } = await newPage();
    await page.goto('/');
    const before = (await sessionCookie(context))!.value;

    // A form whose hidden field was removed: the guard answers 403, shown as the error page.
    await page.evaluate(() => {
      const fields = (globalThis as unknown as BrowserWindow).document.querySelectorAll('input[name="_csrf"]');
      for (let i = 0; i < fields.length; i++) fields[i]!.remove();
    });
    await page.getByLabel('Name').fill('Mallory');
    const [refused] = await Promise.all([
      page.waitForResponse((response) => new URL(response.url()).pathname === '/login'),
      page.getByRole('button', { name: 'Log in' }).click(),
    ]);
    expect(refused.status()).toBe(403);
    expect(await refused.headerValue('set-cookie')).toBeNull();
    await expect(page.locator('#error').textContent()).resolves.toMatch(/CSRF token missing/);

    // fetch without the header, and with a made-up token.
    const bare = await call(page, '/api/login', { method: 'POST', body: { username: 'Mallory' } });
    expect(bare.status).toBe(403);
    expect(bare.body.message).toMatch(/CSRF token missing/);
    const forged = await call(page, '/api/login', { method: 'POST', body: { username: 'Mallory' }, token: 'A'.repeat(86) });
    expect(forged.status).toBe(403);
    expect(forged.body.message).toMatch(/CSRF token invalid/);

    // Nobody logged in, and the session is the same one.
    expect((await sessionCookie(context))!.value).toBe(before);
    await page.goto('/');
    expect(await page.locator('#username').count()).toBe(0);
  }, SCENARIO_TIMEOUT);

  it('fits a phone screen: no horizontal scrolling, sessions and dates in words, a styled notice', async () => {
    const name = `phone-${Date.now()}`;
    const context = await browser!.newContext({ baseURL: baseUrl, viewport: PHONE, deviceScaleFactor: 1 });
    context.setDefaultTimeout(ACTION_TIMEOUT);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
    contexts.push(context);
    // A second device of the same user, so that the sessions table has two rows.
    const laptop = await newPage();
    for (const page of [laptop.page, await context.newPage()]) {
      await page.goto('/');
      await page.getByLabel('Name').fill(name);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${baseUrl}/`);
    }
    const page = context.pages()[0]!;
    expect(await page.locator('.notice').textContent()).toBe(`Welcome, ${name}.`);
    expect(await page.locator('#active-sessions tbody tr').count()).toBe(2);

    // Nothing wider than the screen.
    const scrollWidth = await page.evaluate(() => (globalThis as unknown as BrowserWindow).document.documentElement.scrollWidth);
    expect(scrollWidth).toBeLessThanOrEqual(PHONE.width);
    for (const selector of ['#active-sessions', 'table.sessions', 'form.login, form[action="/logout"]', '.notice']) {
      const box = await page.locator(selector).first().boundingBox();
      expect({ selector, right: Math.ceil((box?.x ?? 0) + (box?.width ?? 0)) <= PHONE.width }).toEqual({ selector, right: true });
    }

    // Words a person reads: no ISO dates, no raw user-agent strings.
    const sessions = (await page.locator('#active-sessions').textContent()) ?? '';
    expect(sessions).toContain('Chrome on Linux');
    expect(sessions).toContain('this device');
    expect(sessions).toMatch(/just now|minute/);
    expect(sessions).not.toMatch(/\d{4}-\d{2}-\d{2}T|Mozilla|AppleWebKit/);
    expect(await page.locator('#active-sessions time').first().getAttribute('datetime')).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    // The notice is styled as one: a coloured box, not bare text.
    const notice = await page.locator('.notice').evaluate((element) => {
      const style = (globalThis as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(element);
      return { background: style.backgroundColor, border: style.borderLeftWidth };
    });
    expect(notice.background).not.toBe('rgba(0, 0, 0, 0)');
    expect(parseFloat(notice.border)).toBeGreaterThan(0);

    const file = join(screenshots!, 'sample-phone.png');
    const png = await page.screenshot({ path: file, fullPage: true });
    // PNG: the IHDR chunk holds the width at bytes 16..19.
    expect(png.readUInt32BE(16)).toBe(PHONE.width);
    expect(readFileSync(file).readUInt32BE(16)).toBe(PHONE.width);
  }, SCENARIO_TIMEOUT);
});
