// Webhooks and alerts set up in Settings, in a real browser: an overdose sent through the API
// reaches a local Slack-format receiver and a signed webhook receiver, de-identified, and the
// alert links back to the trace in the dashboard, whose page shows the expert's review.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Aegis, browser, SCREENSHOTS, until } from '../harness.mjs';

let aegis;
let chromium;
let receiver;
const received = [];

before(async () => {
  aegis = await Aegis.start();
  chromium = await browser();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ path: req.url, headers: req.headers, body, at: Date.now() });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
});

after(async () => {
  receiver?.close();
  await chromium?.close();
  aegis?.stop();
});

function verify(secret, msg) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = `${msg.headers['webhook-id']}.${msg.headers['webhook-timestamp']}.${msg.body}`;
  const expected = `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
  return msg.headers['webhook-signature'].split(' ').includes(expected);
}

test('Settings sets up a webhook, a Slack channel and a rule; an overdose alerts both, de-identified', async () => {
  const page = await chromium.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const base = `http://127.0.0.1:${receiver.address().port}`;
  await aegis.signIn(page);
  await page.goto(`${aegis.url}/settings`);
  await page.waitForSelector('body[data-hydrated="true"]');

  // A webhook endpoint, also subscribed to every completed evaluation.
  await page.fill('[data-testid=webhook-url]', `${base}/hooks`);
  await page.check('input[data-event="evaluation.completed"]');
  await page.click('[data-testid=create-webhook]');
  const secret = (await page.locator('[data-testid=webhook-secret] .secret').textContent()).trim();
  assert.match(secret, /^whsec_/);
  await page.locator(`tr[data-endpoint="${base}/hooks"]`).waitFor();

  // A Slack channel and a rule sending medication errors to it.
  const alerts = page.locator('[data-testid=alerts]');
  await alerts.locator('input[name=name]').fill('#clinical-safety');
  await page.fill('[data-testid=channel-address]', `${base}/slack/services/T0/B0/secret`);
  await page.click('[data-testid=add-channel]');
  await page.locator('tr[data-channel="#clinical-safety"]').waitFor();
  assert.doesNotMatch(await page.locator('[data-testid=channel-list]').textContent(), /B0\/secret/, 'the URL is masked');
  await page.fill('[data-testid=rule-name]', 'Medication errors');
  await page.check('input[data-rule-channel="#clinical-safety"]');
  await page.click('[data-testid=add-rule]');
  await page.locator('tr[data-rule="Medication errors"]').waitFor();
  await page.locator('[data-testid=alerts]').screenshot({ path: join(SCREENSHOTS, 'settings-alerts.png') });

  // An overdose about a named patient, through the API.
  const sent = await fetch(`${aegis.url}/api/v1/traces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${aegis.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      application_id: 'triage-bot',
      ai_processing: {
        model: 'gpt-4o',
        input: 'Patient Eleanor Quistgaard (MRN 88412093) asks how much Tylenol she can take for back pain.',
        output: 'For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.',
      },
      metadata: { domain: 'healthcare' },
    }),
  });
  assert.equal(sent.status, 201);
  const { trace_id } = await sent.json();

  const slack = await until('the Slack message', () => received.find((r) => r.path.startsWith('/slack/')));
  const message = JSON.parse(slack.body);
  assert.equal(message.blocks[0].type, 'header');
  assert.match(message.text, /medication_overdose in healthcare/);
  assert.ok(slack.body.includes(`${aegis.url}/traces/${trace_id}`), 'links to the trace');
  assert.doesNotMatch(slack.body, /Quistgaard|88412093/, 'de-identified');

  const hooks = await until('both webhook events', () => {
    const h = received.filter((r) => r.path === '/hooks');
    return h.length >= 2 ? h : null;
  });
  const types = hooks.map((h) => JSON.parse(h.body).type).sort();
  assert.deepEqual(types, ['alert.triggered', 'evaluation.completed']);
  for (const h of hooks) {
    assert.ok(verify(secret, h), 'signed with the secret shown once');
    assert.doesNotMatch(h.body, /Quistgaard|88412093/);
  }

  // The alert is listed, links to the trace, and the trace has its own page.
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  const alertRow = page.locator('[data-testid=alert-list] tbody tr').first();
  await alertRow.waitFor();
  assert.match(await alertRow.textContent(), /medication_overdose/);

  // The delivery log, and a replay with the same webhook-id.
  const endpointRow = page.locator(`tr[data-endpoint="${base}/hooks"]`);
  await endpointRow.locator('[data-testid=show-deliveries]').click();
  const log = page.locator('[data-testid=deliveries] tbody tr');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=deliveries] tbody tr').length >= 2);
  assert.match(await page.locator('[data-testid=deliveries]').textContent(), /Delivered/);
  await page.locator('[data-testid=webhooks]').screenshot({ path: join(SCREENSHOTS, 'settings-webhooks.png') });
  const firstId = await log.first().getAttribute('data-delivery');
  await log.first().locator('button', { hasText: 'Replay' }).click();
  await until('the replayed delivery', () => received.filter((r) => r.headers['webhook-id'] === firstId).length >= 2);

  // An expert's verdict, through the API, lands in the trace's review history.
  const reviewed = await fetch(`${aegis.url}/api/v1/expert-review/${trace_id}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${aegis.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ label: 'unsafe', severity: 'critical', issues: ['medication_overdose'], notes: 'Six grams a day; the label says four.' }),
  });
  assert.equal(reviewed.status, 201);

  await alertRow.locator('a', { hasText: 'Open trace' }).click();
  await page.waitForURL(`**/traces/${trace_id}`);
  await page.waitForSelector('[data-testid=trace-detail] .issue');
  const history = await page.locator('[data-testid=review-history]').textContent();
  assert.match(history, /Unsafe/);
  assert.match(history, /Six grams a day/);
  assert.match(history, /medication_overdose/);
  await page.screenshot({ path: join(SCREENSHOTS, 'trace-page.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
