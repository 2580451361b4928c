// The dashboard in a real browser: sign in, see a trace that arrived through the API, and
// open it, which only works once the WASM has hydrated the server-rendered page.
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

// An overdose (6 g a day), which Tier 1 settles on its own whatever the classifier thinks.
const ANSWER = 'Avoid ibuprofen with warfarin: it raises the risk of bleeding. Take acetaminophen 1000 mg every 4 hours instead, and tell your anticoagulation clinic.';

test('sign in, see an API trace, open its evaluation', async () => {
  const traceId = await aegis.submit({
    application_id: 'anticoagulation-assistant',
    ai_processing: { model: 'gpt-4o', input: 'Patient on warfarin 5 mg asks about ibuprofen for back pain.', output: ANSWER, prompt_tokens: 31, completion_tokens: 28, latency_ms: 912 },
    steps: [{ kind: 'retrieval', name: 'formulary_lookup', started_at: '2026-11-26T09:00:00Z', ended_at: '2026-11-26T09:00:00.080Z' }],
    metadata: { domain: 'healthcare', specialty: 'cardiology' },
  });
  const otherId = await aegis.submit({
    application_id: 'diabetes-coach',
    ai_processing: { model: 'gpt-4o-mini', input: 'When do I take metformin?', output: 'Metformin 500 mg twice daily with meals. Ask your pharmacist about side effects.' },
    metadata: { domain: 'healthcare' },
  });
  await aegis.evaluated(otherId);
  const evaluation = await aegis.evaluated(traceId);
  assert.equal(evaluation.status, 'fail');
  assert.equal(evaluation.issues[0].code, 'medication_overdose');

  const page = await chromium.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  // Without a session the dashboard sends us to sign in.
  await page.goto(`${aegis.url}/`);
  assert.match(page.url(), /\/login$/);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.screenshot({ path: join(SCREENSHOTS, 'login.png') });

  // A wrong password is refused in place.
  await page.fill('#email', aegis.email);
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.form-error');
  assert.match(await page.textContent('.form-error'), /Wrong email or password/);

  await page.fill('#password', aegis.password);
  await page.click('button[type=submit]');
  // Signed in, the Overview comes first; the Traces page is one click away.
  await page.waitForSelector('[data-testid=overview-stats]');
  assert.equal(await page.textContent('[data-testid=org-name]'), 'Riverside Clinic');
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.click('nav a[href="/traces"]');
  await page.waitForSelector('tr.trace-row');
  const row = page.locator(`tr.trace-row[data-trace-id="${traceId}"]`);
  assert.match(await row.textContent(), /anticoagulation-assistant/);
  assert.match(await row.textContent(), /Fail/);

  // Opening a trace fetches it through a server function: only a hydrated page can.
  await page.waitForSelector('body[data-hydrated="true"]');
  await row.click();
  const detail = page.locator('[data-testid=trace-detail]');
  await detail.locator('[data-testid=evaluation]').waitFor();
  assert.equal(await detail.locator('[data-testid=trace-output]').textContent(), ANSWER);
  assert.match(await detail.textContent(), /well_formed/);
  assert.match(await detail.textContent(), /medication_overdose/);
  assert.match(await detail.locator('[data-testid=escalation]').textContent(), /the verdict is settled/);
  // The overdose is marked where it is in the answer; the steps form a timeline.
  const evidence = detail.locator('[data-testid=trace-output] mark.evidence');
  assert.equal(await evidence.getAttribute('title'), 'medication_overdose');
  assert.match(await evidence.textContent(), /1000 mg every 4 hours/);
  assert.match(await detail.locator('[data-testid=steps]').textContent(), /formulary_lookup.*80\.0 ms/);
  await page.screenshot({ path: join(SCREENSHOTS, 'traces-detail.png'), fullPage: true });

  // Search narrows the table to traces with every word, and survives a reload.
  await page.fill('input[name=q]', 'warfarin bleeding');
  await page.click('.filters button[type=submit]');
  await page.waitForURL(/q=warfarin/);
  await page.waitForSelector(`tr.trace-row[data-trace-id="${otherId}"]`, { state: 'detached' });
  assert.equal(await page.locator('tr.trace-row').count(), 1);
  await page.reload();
  await page.waitForSelector(`tr.trace-row[data-trace-id="${traceId}"]`);
  assert.equal(await page.locator('tr.trace-row').count(), 1);
  assert.equal(await page.inputValue('input[name=q]'), 'warfarin bleeding');
  await page.screenshot({ path: join(SCREENSHOTS, 'traces-search.png'), fullPage: true });
  await page.fill('input[name=q]', '');

  // The application filter, and a date range that ends before today, narrow it too.
  await page.fill('input[name=application]', 'diabetes-coach');
  await page.click('.filters button[type=submit]');
  await page.waitForURL(/application=diabetes-coach/);
  await page.waitForSelector(`tr.trace-row[data-trace-id="${traceId}"]`, { state: 'detached' });
  assert.equal(await page.locator(`tr.trace-row[data-trace-id="${otherId}"]`).count(), 1);
  await page.fill('input[name=application]', '');
  await page.fill('input[name=to]', '2020-01-01');
  await page.click('.filters button[type=submit]');
  await page.waitForURL(/to=2020-01-01/);
  await page.waitForSelector('.empty');
  await page.fill('input[name=to]', '');

  // Filters live in the URL, so a filtered view can be shared.
  await page.selectOption('select[name=status]', 'error');
  await page.click('.filters button[type=submit]');
  await page.waitForURL(/status=error/);
  await page.waitForSelector('.empty');
  assert.match(await page.textContent('.empty'), /No traces match these filters/);

  assert.deepEqual(errors, [], 'no errors in the browser console');
});

test('the dashboard serves its own 404 page and static assets', async () => {
  const css = await fetch(`${aegis.url}/pkg/aegis.css`);
  assert.equal(css.status, 200);
  assert.match(await css.text(), /\.review-layout/);
  // Read to the end: a response left unread holds its connection, and the server's graceful
  // shutdown rightly waits for it.
  const wasm = await fetch(`${aegis.url}/pkg/aegis.wasm`);
  assert.equal(wasm.status, 200);
  assert.ok((await wasm.arrayBuffer()).byteLength > 100_000);
});
