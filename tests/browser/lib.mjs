// Helpers for SiteLift's browser tests: the local sites (scripts/sites info), Debian's Chromium through
// playwright-core, logins and screenshots (into tests/browser/artifacts/, git-ignored).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  // Only the local sites: no fonts, avatars or anything else from outside (this machine has no network).
  await context.route((url) => url.hostname !== '127.0.0.1' && url.protocol !== 'data:', (route) => route.abort());
  const page = await context.newPage();
  page.on('dialog', (dialog) => dialog.accept()); // the screens confirm() before replacing a token or cancelling
  page.on('pageerror', (err) => console.log(`[${site}] page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().includes('net::ERR_FAILED')) console.log(`[${site}] console: ${msg.text()}`);
  });
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

/** The SiteLift job on the source, read inside its WordPress: {status, last_origin, ...} without the token. */
export function sourceJob() {
  const out = wpEval('source', 'echo wp_json_encode( (function () { $j = \\SiteLift\\Plugin\\Runner::job() ?: array(); unset( $j["token"] ); return $j; })() );');
  return JSON.parse(out.trim().split('\n').pop() || '{}');
}

/** Forgets any earlier migration from the source (a run without a fresh seed may have left one). */
export function resetSourceJob() {
  wpEval('source', '\\SiteLift\\Plugin\\Runner::cancel(); \\SiteLift\\Plugin\\Runner::forget(); delete_transient( "sitelift_preflight" );');
}

/** Writes a must-use plugin into a site (removed by removeMuPlugin or by resetting the site). */
export function writeMuPlugin(site, name, code) {
  const dir = path.join(info[site].root, 'wp-content/mu-plugins');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), code);
}

export function removeMuPlugin(site, name) {
  rmSync(path.join(info[site].root, 'wp-content/mu-plugins', name), { force: true });
}

/** Mail files the fake sendmail wrote for a site, as text. */
export function mails(site) {
  const dir = info[site].mail_dir;
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

/** Decodes RFC 2047 encoded words (=?charset?Q|B?...?=) as PHPMailer writes long or non-ASCII subjects. */
function decodeWords(text) {
  return text.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*/g, (_, charset, enc, data) => {
    const buf = enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64')
      : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return buf.toString('utf8');
  });
}

/** The decoded subjects of a site's mails, oldest first. */
export function mailSubjects(site) {
  return mails(site).map((m) => {
    const head = m.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
    const line = head.split(/\r?\n/).find((l) => /^Subject:/i.test(l)) || '';
    return decodeWords(line.replace(/^Subject:\s*/i, '')).trim();
  });
}

/**
 * Generates a machine token on the destination's "Receive a site" screen and copies it with the Copy
 * button; returns the clipboard's text and the site name shown.
 */
export async function generateToken(browser, shotPrefix) {
  const page = await newPage(browser, 'destination');
  await login(page, 'destination', info.destination.admin.user, info.destination.admin.password);
  await page.goto(`${info.destination.url}/wp-admin/tools.php?page=sitelift&tab=receive`);
  const siteName = await page.inputValue('#sitelift-site-name');
  await page.click('#sitelift-generate');
  await page.waitForSelector('#sitelift-new-token:not([hidden])');
  await page.click('#sitelift-copy');
  await page.waitForSelector('#sitelift-copied:text("Copied")');
  const token = (await page.evaluate(() => navigator.clipboard.readText())).trim();
  const shown = await page.inputValue('#sitelift-token-value');
  if (shotPrefix) await shot(page, `${shotPrefix}-destination-token`);
  await page.context().close();
  return { token, shown, siteName };
}

/** The source's SiteLift screen, logged in, with the pre-flight summary loaded. */
export async function openSourceScreen(browser) {
  const page = await newPage(browser, 'source');
  await login(page, 'source', info.source.admin.user, info.source.admin.password);
  await page.goto(`${info.source.url}/wp-admin/tools.php?page=sitelift&tab=migrate`);
  await page.waitForSelector('#sitelift-preflight-body .sitelift-chart', { timeout: 60000 });
  return page;
}

/** Percent shown by the progress bar (NaN before it shows). */
export async function percent(page) {
  const text = await page.textContent('#sitelift-percent');
  return Number.parseInt(text, 10);
}

/** A published post of the source with uploaded images in its content: its permalink and the source URL. */
export function sourcePostWithImages() {
  const out = wpEval('source', `
    foreach ( get_posts( array( 'numberposts' => 200, 'post_status' => 'publish', 'post_type' => 'post', 'orderby' => 'ID', 'order' => 'ASC' ) ) as $p ) {
      if ( false !== strpos( $p->post_content, '<img' ) && false !== strpos( $p->post_content, '/wp-content/uploads/' ) ) {
        echo wp_json_encode( array( 'permalink' => get_permalink( $p ), 'id' => $p->ID ) ); break;
      }
    }`);
  return JSON.parse(out.trim().split('\n').pop());
}

/**
 * The permalink of the source's latest post that a fresh install does not have too (not its "Hello world!"), so
 * finding it at the destination proves the migration.
 */
export function latestSourcePost() {
  const out = wpEval('source', `$p = get_posts( array( 'numberposts' => 1, 'post_status' => 'publish', 'post_type' => 'post',
    'exclude' => array( 1 ), 'post_name__not_in' => array( 'hello-world' ) ) ); echo get_permalink( $p[0] );`);
  const url = out.trim().split('\n').pop();
  if (!url.startsWith(info.source.url + '/') || /hello-world/.test(url)) throw new Error(`no seeded post on the source: ${url}`);
  return url;
}

/** The same URL at the destination. */
export function atDestination(url) {
  return info.destination.url + url.slice(info.source.url.length);
}

/**
 * Checks the destination shows the source's content: the latest post linked from the front page, a post's
 * uploaded images at the destination's URL and loading. Returns what it saw for the test's messages.
 */
export async function checkDestinationContent(browser, assert, shotPrefix) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  const page = await context.newPage();
  await page.goto(`${info.destination.url}/`);
  const latest = atDestination(latestSourcePost());
  const links = await page.$$eval('a', (as) => as.map((a) => a.href));
  assert.ok(links.includes(latest), `the destination's front page links the source's latest post ${latest}`);
  assert.ok(!links.some((h) => h.startsWith(info.source.url)), 'no link on the front page points at the source');
  if (shotPrefix) await shot(page, `${shotPrefix}-destination-front`);

  const post = sourcePostWithImages();
  const url = atDestination(post.permalink);
  const response = await page.goto(url);
  assert.equal(response.status(), 200, `${url} answers`);
  await page.waitForLoadState('load');
  const images = await page.$$eval('img', (imgs) => imgs.map((i) => ({ src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0 })));
  const uploads = images.filter((i) => i.src.includes('/wp-content/uploads/'));
  assert.ok(uploads.length > 0, `post ${url} shows uploaded images`);
  for (const img of uploads) {
    assert.ok(img.src.startsWith(info.destination.url + '/'), `image at the destination's URL: ${img.src}`);
    assert.ok(img.ok, `image loads: ${img.src}`);
  }
  if (shotPrefix) await shot(page, `${shotPrefix}-destination-post`);
  await context.close();
  return { latest, images: uploads.length };
}

/** Logs in at the destination with the source admin's credentials; the destination's old ones fail. */
export async function checkDestinationLogins(browser, assert) {
  const context = await browser.newContext();
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  const page = await context.newPage();
  await page.goto(`${info.destination.url}/wp-login.php`);
  await page.fill('#user_login', info.destination.admin.user);
  await page.fill('#user_pass', info.destination.admin.password);
  await page.click('#wp-submit');
  await page.waitForSelector('#login_error');
  await page.goto(`${info.destination.url}/wp-login.php`);
  await page.fill('#user_login', info.source.admin.user);
  await page.fill('#user_pass', info.source.admin.password);
  await Promise.all([page.waitForURL(/\/wp-admin\//), page.click('#wp-submit')]);
  assert.ok(await page.$('#wpadminbar'), 'the source admin is logged in at the destination');
  await context.close();
}
