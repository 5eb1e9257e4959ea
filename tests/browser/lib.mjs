// Helpers for SiteLift's browser tests: the local sites (scripts/sites info), Debian's Chromium through
// playwright-core, logins and screenshots (into tests/browser/artifacts/, git-ignored).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
export const artifacts = process.env.SITELIFT_BROWSER_ARTIFACTS || path.join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });

/** Runs scripts/sites with arguments; returns stdout. */
export function sites(...args) {
  return execFileSync(path.join(repo, 'scripts/sites'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
}

export const info = JSON.parse(sites('info'));

/** PHP run inside a site's WordPress; returns what it prints. */
export function wpEval(site, code) {
  return sites('eval', site, code);
}

export async function launch() {
  const executablePath = process.env.SITELIFT_CHROMIUM || '/usr/bin/chromium';
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export async function newPage(browser, site) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: info[site].url });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.log(`[${site}] page error: ${err.message}`));
  page.on('console', (msg) => { if (msg.type() === 'error') console.log(`[${site}] console: ${msg.text()}`); });
  return page;
}

export async function login(page, site, user, password) {
  await page.goto(`${info[site].url}/wp-login.php`);
  await page.fill('#user_login', user);
  await page.fill('#user_pass', password);
  await Promise.all([page.waitForURL(/wp-admin/), page.click('#wp-submit')]);
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
