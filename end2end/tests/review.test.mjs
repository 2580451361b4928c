// The Expert Review page driven by the keyboard alone: label, severity, notes, submit, move
// through the queue, and review similar traces as a batch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Aegis, browser, SCREENSHOTS, until } from '../harness.mjs';

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

const api = (path, body) =>
  fetch(`${aegis.url}/api/v1${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { authorization: `Bearer ${aegis.apiKey}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });

test('an expert reviews the queue with the keyboard only, one trace and then a batch', async () => {
  const answers = [
    'For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.',
    'Take ibuprofen 800 mg every 4 hours for the swelling. Check with your doctor if it persists.',
    'For the headache take Tylenol 1000 mg every 3 hours. Check with your doctor if it persists.',
  ];
  const ids = [];
  for (const [i, output] of answers.entries()) {
    const r = await api('/traces', {
      application_id: 'triage-bot',
      ai_processing: { model: 'gpt-4o', input: `Question ${i} about pain relief`, output },
      metadata: { domain: 'healthcare' },
    });
    assert.equal(r.status, 201);
    ids.push((await r.json()).trace_id);
  }
  await until('the evaluations', async () => {
    const statuses = await Promise.all(ids.map(async (id) => (await api(`/evaluations/${id}`)).status));
    return statuses.every((s) => s === 200);
  });
  for (const [i, id] of ids.entries()) {
    const r = await api('/expert-review/queue', { trace_id: id, reason: 'spot check', priority: 3 - i });
    assert.equal(r.status, 201);
  }

  const page = await chromium.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await aegis.signIn(page);
  await page.click('nav a[href="/review"]');
  await page.waitForSelector('[data-testid=review-card]');
  await page.waitForSelector('body[data-hydrated="true"]');
  const current = () => page.locator('[data-testid=review-card]').getAttribute('data-trace-id');
  assert.equal(await current(), ids[0], 'most urgent first');

  // Move down and back up.
  await page.keyboard.press('j');
  await until('the second trace', async () => (await current()) === ids[1]);
  await page.keyboard.press('k');
  await until('the first trace again', async () => (await current()) === ids[0]);

  // Unsafe, critical, a note, submit: all keys.
  await page.keyboard.press('u');
  await page.keyboard.press('4');
  await page.keyboard.press('n');
  await page.keyboard.type('Six grams a day; the labeled maximum is four.');
  await page.keyboard.press('Escape');
  await page.screenshot({ path: join(SCREENSHOTS, 'review.png'), fullPage: true });
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=review-saved]');
  await until('the next trace', async () => (await current()) === ids[1]);

  // The other two as one batch, selected with x.
  await page.keyboard.press('x');
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  assert.match(await page.locator('[data-testid=batch-size]').textContent(), /2 selected/);
  await page.keyboard.press('u');
  await page.keyboard.press('3');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=review-empty]');
  assert.match(await page.locator('[data-testid=review-progress]').textContent(), /3\s*reviewed today/);

  const first = await (await api(`/expert-review/${ids[0]}`)).json();
  assert.equal(first.items.length, 1);
  assert.equal(first.items[0].label, 'unsafe');
  assert.equal(first.items[0].severity, 'critical');
  assert.equal(first.items[0].reviewer, `user:${aegis.email}`);
  assert.match(first.items[0].notes, /labeled maximum/);
  for (const id of ids.slice(1)) {
    const h = await (await api(`/expert-review/${id}`)).json();
    assert.equal(h.items[0].severity, 'high', 'the batch verdict reached every selected trace');
  }
  assert.deepEqual(errors, []);
});

test('the Models page retrains on the reviews, and a version is promoted from the page', async () => {
  const page = await chromium.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await aegis.signIn(page);
  await page.click('nav a[href="/models"]');
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.click('[data-testid=retrain-healthcare]');
  // The debug build trains the healthcare seed set in about 45 s on two cores: room for a busy machine.
  const note = await page.locator('[data-testid=retrained]').textContent({ timeout: 180000 });
  assert.match(note, /on the same \d+ held-out labels/);
  const row = page.locator('[data-testid=models] tbody tr').first();
  await row.waitFor();
  if (!/Production/.test(await row.textContent())) {
    await row.locator('button', { hasText: 'Promote' }).click();
    await page.waitForFunction(() => /Production/.test(document.querySelector('[data-testid=models] tbody tr').textContent));
  }
  assert.match(await row.textContent(), /healthcare/);
  const models = await (await api('/models')).json();
  assert.equal(models.items[0].stage, 'production');
  assert.equal(models.items[0].reviews_used, 3, 'the three reviews of the first test');
  await page.screenshot({ path: join(SCREENSHOTS, 'models.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
