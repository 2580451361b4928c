// Roles in the browser: the owner manages people from Settings, a viewer sees what a viewer
// may, and the organization cannot lose its last owner.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Aegis, browser, SCREENSHOTS } from '../harness.mjs';

let aegis;
let chromium;

before(async () => {
  aegis = await Aegis.start();
  chromium = await browser();
});

after(async () => {
  await chromium?.close();
  aegis?.stop();
});

const row = (email) => `[data-testid=users] tr[data-user="${email}"]`;

test('the owner changes and removes users; a viewer is shown only what a viewer may do', async () => {
  const viewer = aegis.addUser('vera', 'viewer');
  const reviewer = aegis.addUser('rui', 'reviewer');

  const owner = await (await chromium.newContext()).newPage();
  await aegis.signIn(owner);
  assert.equal(await owner.textContent('[data-testid=role]'), 'owner');
  await owner.goto(`${aegis.url}/settings`);
  await owner.waitForSelector('body[data-hydrated="true"]');
  await owner.waitForSelector(row(viewer));

  // The viewer: no keys, no users, no webhooks; the policy is read-only.
  const seen = await (await chromium.newContext()).newPage();
  await aegis.signIn(seen, viewer);
  await seen.goto(`${aegis.url}/settings`);
  await seen.waitForSelector('[data-testid=role-notice]');
  assert.equal(await seen.locator('text=Create an API key').count(), 0);
  assert.equal(await seen.locator('[data-testid=users]').count(), 0);
  await seen.waitForSelector('[data-testid=save-phi]');
  assert.ok(await seen.isDisabled('[data-testid=save-phi]'), 'a viewer cannot save the PHI policy');
  // Alerts are read, not configured: no channel or rule forms.
  await seen.waitForSelector('[data-testid=alerts]');
  assert.equal(await seen.locator('[data-testid=add-channel]').count(), 0);
  assert.equal(await seen.locator('[data-testid=add-rule]').count(), 0);
  assert.equal(await seen.locator('[data-testid=webhooks]').count(), 0);
  await seen.screenshot({ path: join(SCREENSHOTS, 'settings-viewer.png'), fullPage: true });

  // The owner makes the viewer a reviewer: the choice is saved as soon as it is made.
  await Promise.all([
    owner.waitForResponse((r) => r.url().includes('/api/change_user_role')),
    owner.selectOption(`${row(viewer)} select[name=role]`, 'reviewer'),
  ]);
  await owner.reload();
  await owner.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await owner.inputValue(`${row(viewer)} select[name=role]`), 'reviewer');

  // The reviewer is removed, and their session ends with them.
  const gone = await (await chromium.newContext()).newPage();
  await aegis.signIn(gone, reviewer);
  await owner.click(`${row(reviewer)} button:has-text("Remove")`);
  await owner.waitForSelector(row(reviewer), { state: 'detached' });
  await gone.goto(`${aegis.url}/traces`);
  assert.match(gone.url(), /\/login$/, 'the removed user is signed out');

  // The only owner cannot step down.
  await owner.selectOption(`${row(aegis.email)} select[name=role]`, 'admin');
  await owner.waitForSelector('[data-testid=user-error]');
  assert.match(await owner.textContent('[data-testid=user-error]'), /at least one owner/);
  await owner.screenshot({ path: join(SCREENSHOTS, 'settings-users.png'), fullPage: true });
});
