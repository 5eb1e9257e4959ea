// The page is closed in the middle of a migration, on a host that blocks requests from the site to itself
// (so WP-Cron's loopback cannot run): ordinary visits to the site's front page carry the migration to its
// end, and the SiteLift screen shows it completed when it is opened again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  info, sites, launch, shot, percent, sleep, generateToken, openSourceScreen, writeMuPlugin, removeMuPlugin, resetSourceJob,
  sourceJob, checkDestinationContent,
} from './lib.mjs';

const MU = 'sitelift-browser-test.php';
let browser;
// The small site moves in a few seconds, within the one or two steps the page starts before it is closed;
// 320 MB that do not compress make sure that visits have work left to carry.
const bulk = path.join(info.source.root, 'wp-content/uploads/sitelift-closed-page-test');

before(async () => {
  sites('reset', 'destination');
  resetSourceJob();
  rmSync(bulk, { recursive: true, force: true });
  mkdirSync(bulk, { recursive: true });
  for (let i = 0; i < 32; i++) writeFileSync(path.join(bulk, `bulk-${i}.bin`), randomBytes(10 << 20));
  writeMuPlugin('source', MU, `<?php
// Written by SiteLift's browser tests: short steps, and a host that blocks requests to itself.
add_filter( 'sitelift_step_seconds', function () { return 1.0; } );
add_filter( 'pre_http_request', function ( $pre, $args, $url ) {
	if ( 0 === strpos( $url, home_url() ) || 0 === strpos( $url, site_url() ) || false !== strpos( $url, 'wp-cron.php' ) ) {
		return new WP_Error( 'http_request_failed', 'requests to this site itself are blocked here' );
	}
	return $pre;
}, 10, 3 );
`);
  browser = await launch();
});

after(async () => {
  removeMuPlugin('source', MU);
  rmSync(bulk, { recursive: true, force: true });
  if (browser) await browser.close();
});

test('the migration completes after its page was closed', { timeout: 15 * 60 * 1000 }, async () => {
  const { token, siteName } = await generateToken(browser, 'closed');
  const page = await openSourceScreen(browser);
  await page.fill('#sitelift-token', token);
  await page.fill('#sitelift-dest-name', siteName);
  await page.click('#sitelift-migrate');
  await page.waitForSelector('#sitelift-progress:not([hidden])');
  const deadline = Date.now() + 3 * 60 * 1000;
  while (!((await percent(page)) >= 1)) {
    assert.ok(Date.now() < deadline, 'the migration did not start');
    await sleep(200);
  }
  const atClose = await percent(page);
  assert.ok(atClose < 100, `closed mid-way (at ${atClose}%)`);
  await shot(page, 'closed-source-before-closing');
  await page.context().close();

  assert.equal(sourceJob().status, 'running');

  // Nobody looks at the admin any more; visitors keep reading the site.
  const visitsUntil = Date.now() + 12 * 60 * 1000;
  const origins = new Set();
  let job = sourceJob();
  let visits = 0;
  while (job.status === 'running') {
    assert.ok(Date.now() < visitsUntil, `still running after ${visits} visits: ${JSON.stringify(job)}`);
    const r = await fetch(`${info.source.url}/?p=${1 + (visits % 5)}`, { redirect: 'manual' });
    await r.arrayBuffer();
    visits++;
    await sleep(1000);
    job = sourceJob();
    if (job.last_origin) origins.add(job.last_origin);
  }
  assert.equal(job.status, 'done', `the migration ended as ${job.status}: ${job.error || ''}`);
  assert.ok(origins.has('visit'), `steps ran from page visits (origins: ${[...origins].join(', ')})`);

  const again = await openSourceScreen(browser);
  await again.waitForSelector('#sitelift-report:not([hidden])');
  assert.equal(await percent(again), 100);
  assert.match(await again.textContent('#sitelift-phase'), /Done/);
  await shot(again, 'closed-source-done');
  await again.context().close();

  await checkDestinationContent(browser, assert, 'closed');
});
