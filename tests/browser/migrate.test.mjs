// The whole journey in a browser: a token generated and copied on the destination, pasted on the source with
// the site name, Migrate, the bar up to 100%, then the source's posts and images at the destination's URL and
// the source admin's login working there; last, Roll back on the destination's screen puts its own site back.
// Screenshots of each screen go to artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  info, sites, launch, shot, percent, sleep, generateToken, openSourceScreen, writeMuPlugin, removeMuPlugin, resetSourceJob,
  mails, mailSubjects, sourceJob, checkDestinationContent, checkDestinationLogins, artifacts, newPage, login,
  atDestination, latestSourcePost,
} from './lib.mjs';
import path from 'node:path';
import { copyFileSync } from 'node:fs';

const MU = 'sitelift-browser-test.php';
let browser;

before(async () => {
  sites('reset', 'destination');
  resetSourceJob();
  // Very short steps (a step still sends at least one part), so the bar moves visibly on the small test site
  // however fast the engine moves it: with 2-second steps a faster push once took the whole site in one step.
  writeMuPlugin('source', MU, "<?php\n// Written by SiteLift's browser tests.\nadd_filter( 'sitelift_step_seconds', function () { return 0.2; } );\n");
  browser = await launch();
});

after(async () => {
  removeMuPlugin('source', MU);
  if (browser) await browser.close();
});

test('migrate from the source screen while it stays open', { timeout: 15 * 60 * 1000 }, async () => {
  const mailsBefore = mails('source').length;
  const { token, shown, siteName } = await generateToken(browser, 'open');
  assert.equal(token, shown, 'the Copy button put the token on the clipboard');
  assert.ok(token.length >= 32, 'a token was shown');
  assert.equal(siteName, 'sitelift-destination', 'the default site name is a slug of the blog name');

  const page = await openSourceScreen(browser);
  await shot(page, 'open-source-preflight');
  assert.match(await page.textContent('#sitelift-preflight-body'), /after connecting/);

  await page.fill('#sitelift-token', token);
  await page.fill('#sitelift-dest-name', siteName);
  await page.click('#sitelift-migrate');
  await page.waitForSelector('#sitelift-progress:not([hidden])');
  assert.equal(await page.inputValue('#sitelift-token'), '', 'the token field is emptied once the migration starts');

  // Watch the bar until it reaches 100%.
  const seen = [];
  let progressShot = false;
  const deadline = Date.now() + 12 * 60 * 1000;
  for (;;) {
    const p = await percent(page);
    if (!Number.isNaN(p) && seen[seen.length - 1] !== p) seen.push(p);
    if (!progressShot && p >= 15 && p < 95) {
      await shot(page, 'open-source-progress');
      await page.locator('#sitelift-progress').screenshot({ path: path.join(artifacts, 'progress-card.png') });
      progressShot = true;
    }
    if (p === 100) break;
    const failed = await page.$('#sitelift-progress-error .notice-error');
    if (failed) assert.fail(`the migration stopped: ${await failed.textContent()}`);
    assert.ok(Date.now() < deadline, `the bar reached only ${p}% in time (seen: ${seen.join(', ')})`);
    await sleep(250);
  }
  assert.ok(seen.length >= 3, `the bar moved in steps (seen: ${seen.join(', ')})`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] >= seen[i - 1], `the bar never goes back (seen: ${seen.join(', ')})`);

  await page.waitForSelector('#sitelift-report:not([hidden])');
  const report = await page.textContent('#sitelift-report');
  assert.match(report, /Log in there as admin with the password you use here/);
  const link = await page.getAttribute('#sitelift-dest-link', 'href');
  assert.equal(link.replace(/\/$/, ''), info.destination.url);
  await shot(page, 'open-source-done');

  // The log downloads, without the token.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#sitelift-log')]);
  const logPath = path.join(artifacts, 'open-migration-log.txt');
  await download.saveAs(logPath);
  const { readFileSync } = await import('node:fs');
  assert.ok(!readFileSync(logPath, 'utf8').includes(token), 'the log does not contain the token');
  await page.context().close();

  const job = sourceJob();
  assert.equal(job.status, 'done');
  assert.equal(job.token, undefined);

  const subjects = mailSubjects('source').slice(mailsBefore);
  assert.deepEqual(subjects, [
    '[SiteLift Source] Migration to "sitelift-destination" started',
    '[SiteLift Source] Migration to "sitelift-destination" completed',
  ]);
  assert.ok(!mails('source').join('\n').includes(token), 'no email contains the token');

  await checkDestinationContent(browser, assert, 'open');
  await checkDestinationLogins(browser, assert);

  // The destination's own screen, now run by the source's admin: the migration done, then Roll back.
  const dest = await newPage(browser, 'destination');
  await login(dest, 'destination', info.source.admin.user, info.source.admin.password);
  await dest.goto(`${info.destination.url}/wp-admin/tools.php?page=sitelift&tab=receive`);
  await dest.waitForSelector('#sitelift-incoming-phase');
  assert.equal(await dest.textContent('#sitelift-incoming-phase'), 'Done');
  await dest.waitForSelector('#sitelift-import-card:not([hidden])');
  await shot(dest, 'open-destination-after');
  assert.equal(await dest.isDisabled('#sitelift-rollback'), false, 'Roll back is offered');
  await dest.click('#sitelift-rollback');
  await dest.waitForSelector('.sitelift-notices .notice-success', { timeout: 120000 });
  await shot(dest, 'open-destination-rolled-back');
  await dest.context().close();
  // Its own admin logs in again, and its front page no longer shows the source's posts.
  const own = await newPage(browser, 'destination');
  await login(own, 'destination', info.destination.admin.user, info.destination.admin.password);
  await own.goto(`${info.destination.url}/`);
  const links = await own.$$eval('a', (as) => as.map((a) => a.href));
  assert.ok(!links.includes(atDestination(latestSourcePost())), 'after the rollback the source\'s posts are gone');
  await own.context().close();
  if (process.env.SITELIFT_UPDATE_DOCS_SCREENSHOT === '1') {
    copyFileSync(path.join(artifacts, 'progress-card.png'), path.resolve(artifacts, '../../../docs/admin-progress.png'));
  }
});
