// The Overview, Analytics and Settings pages in a real browser, and the live feed: a trace
// sent through the API shows up on the open page within 2 seconds, another organization's
// never does.
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

const SAFE = 'Up to 1000 mg every 6 hours, no more than 4 g a day. Ask your pharmacist.';
const OVERDOSE = 'For your back pain take Tylenol 1000 mg every 4 hours. Check with your doctor if it persists.';

function clinical(output, application = 'triage-bot') {
  return {
    application_id: application,
    ai_processing: { model: 'gpt-4o', input: 'What is the most acetaminophen I can take for back pain?', output },
    metadata: { domain: 'healthcare', specialty: 'primary_care' },
  };
}

async function newPage() {
  const page = await chromium.newPage({ viewport: { width: 1440, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

test('the Overview shows the figures, follows the live feed, and never another organization', async () => {
  for (const output of [SAFE, SAFE, OVERDOSE]) {
    await aegis.evaluated(await aegis.submit(clinical(output)));
  }
  const { page, errors } = await newPage();
  await aegis.signIn(page);

  assert.equal(await page.textContent('[data-testid=total-traces]'), '3');
  assert.equal(await page.textContent('[data-testid=pass-rate]'), '66.7%');
  assert.match(await page.textContent('[data-testid=tier-distribution]'), /Tier 1 · rules/);
  assert.match(await page.textContent('[data-testid=top-issues]'), /medication_overdose/);
  await page.waitForSelector('[data-testid=chart] svg');
  // The cost section: runs per domain and tier, to the micro-dollar (Tiers 0-2 cost nothing).
  const costs = await page.textContent('[data-testid=costs]');
  assert.match(costs, /healthcare\s*Tier 1 · rules\s*3/);
  assert.equal(await page.textContent('[data-testid=cost-total]'), '$0');

  // Connected to the live feed, a trace sent now appears within 2 seconds.
  await page.waitForSelector('.live-dot.on');
  const sent = Date.now();
  const liveId = await aegis.submit(clinical(OVERDOSE, 'live-bot'));
  await page.waitForSelector(`.live-item[data-trace-id="${liveId}"]`, { timeout: 2000 });
  const seenAfter = Date.now() - sent;
  assert.ok(seenAfter < 2000, `on the live feed after ${seenAfter} ms`);
  assert.match(await page.textContent(`.live-item[data-trace-id="${liveId}"]`), /medication_overdose/);
  // The figures follow.
  await page.waitForFunction(() => document.querySelector('[data-testid=total-traces]')?.textContent === '4', null, { timeout: 8000 });

  // Another organization's evaluation, finished meanwhile, never reaches this page.
  const other = aegis.createOrg('Harbor Capital');
  const theirs = await aegis.submit(clinical(OVERDOSE, 'their-bot'), other.api_key);
  await aegis.evaluated(theirs, other.api_key);
  const mineAfter = await aegis.submit(clinical(SAFE, 'after-bot'));
  await page.waitForSelector(`.live-item[data-trace-id="${mineAfter}"]`, { timeout: 2000 });
  assert.equal(await page.locator(`.live-item[data-trace-id="${theirs}"]`).count(), 0);
  assert.doesNotMatch(await page.textContent('[data-testid=live-feed]'), /their-bot/);
  await page.screenshot({ path: join(SCREENSHOTS, 'overview.png'), fullPage: true });

  // The Traces page follows the feed too.
  await page.click('nav a[href="/traces"]');
  await page.waitForSelector(`tr.trace-row[data-trace-id="${mineAfter}"]`);
  await page.waitForSelector('[data-testid=live-state] .live-dot.on');
  const arriving = await aegis.submit(clinical(SAFE, 'arriving-bot'));
  await page.waitForSelector(`tr.trace-row[data-trace-id="${arriving}"]`, { timeout: 5000 });
  assert.equal(await page.locator(`tr.trace-row[data-trace-id="${theirs}"]`).count(), 0);

  assert.deepEqual(errors, [], 'no errors in the browser console');
});

test('Analytics draws every chart, and its range lives in the URL', async () => {
  const { page, errors } = await newPage();
  await aegis.signIn(page);
  await page.click('nav a[href="/analytics"]');
  await page.waitForSelector('[data-metric=issues] [data-testid=chart] svg');
  assert.equal(await page.locator('[data-testid=chart] svg').count(), 5);
  assert.match(await page.locator('[data-metric=volume] svg').innerHTML(), /pass/);

  await page.selectOption('select[name=range]', '7d');
  await page.waitForURL(/range=7d/);
  await page.reload();
  await page.waitForSelector('[data-metric=cost] [data-testid=chart] svg');
  assert.equal(await page.inputValue('select[name=range]'), '7d');
  // Sized for the screen: each chart fills its card.
  const box = await page.locator('[data-metric=volume] svg').boundingBox();
  assert.ok(box.width > 400, `chart width ${box.width}`);
  await page.screenshot({ path: join(SCREENSHOTS, 'analytics.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  await page.screenshot({ path: join(SCREENSHOTS, 'analytics-print.png'), fullPage: true });
  assert.equal(await page.locator('nav.sidebar').isVisible(), false, 'printing leaves the navigation out');
  assert.deepEqual(errors, []);
});

test('Settings creates a key, shows it once, and revokes it', async () => {
  const { page, errors } = await newPage();
  await aegis.signIn(page);
  await page.click('nav a[href="/settings"]');
  await page.waitForSelector('[data-testid=api-keys]');
  await page.fill('input[name=name]', 'nightly-export');
  await page.click('[data-testid=create-key]');
  const secret = (await page.locator('[data-testid=new-key] .secret').textContent()).trim();
  assert.ok(secret.length > 20);
  const row = page.locator('tr[data-key-name="nightly-export"]');
  await row.waitFor();
  assert.doesNotMatch(await row.textContent(), new RegExp(secret), 'the list never shows the secret');
  const ok = await fetch(`${aegis.url}/api/v1/traces?limit=1`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(ok.status, 200, 'the new key works');
  await page.screenshot({ path: join(SCREENSHOTS, 'settings.png'), fullPage: true });

  await row.locator('button', { hasText: 'Revoke' }).click();
  await row.waitFor({ state: 'detached' });
  await page.reload();
  await page.waitForSelector('[data-testid=api-keys]');
  assert.equal(await page.locator('tr[data-key-name="nightly-export"]').count(), 0);
  assert.deepEqual(errors, []);
});

test('Settings edits the de-identification policy, and the API sees the change', async () => {
  const { page, errors } = await newPage();
  await aegis.signIn(page);
  await page.goto(`${aegis.url}/settings`);
  await page.waitForSelector('body[data-hydrated="true"]');
  const names = page.locator('input[data-phi-type=NAME]');
  await names.waitFor();
  assert.equal(await names.isChecked(), true, 'every identifier type is scrubbed by default');
  await names.uncheck();
  await page.fill('textarea[name=allow]', 'Mass General');
  await page.click('[data-testid=save-phi]');
  await page.waitForSelector('[data-testid=phi-saved]');

  const r = await fetch(`${aegis.url}/api/v1/phi/policy`, { headers: { authorization: `Bearer ${aegis.apiKey}` } });
  const policy = await r.json();
  assert.ok(!policy.types.includes('NAME'), JSON.stringify(policy.types));
  assert.ok(policy.types.includes('SSN'));
  assert.deepEqual(policy.allow, ['Mass General']);

  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await page.locator('input[data-phi-type=NAME]').isChecked(), false, 'the saved policy is what the page shows');
  await page.locator('[data-testid=phi-policy]').screenshot({ path: join(SCREENSHOTS, 'settings-phi.png') });
  assert.deepEqual(errors, []);
});

test('Domains lists the loaded packs with their rules and thresholds', async () => {
  const { page, errors } = await newPage();
  await aegis.signIn(page);
  await page.click('nav a[href="/domains"]');
  const healthcare = page.locator('[data-domain=healthcare]');
  await healthcare.waitFor();
  assert.match(await healthcare.textContent(), /medication_overdose/);
  assert.match(await healthcare.textContent(), /drug_interaction/);
  assert.match(await healthcare.textContent(), /Flags at risk/);
  assert.match(await page.locator('[data-domain=trading]').textContent(), /restricted_symbols/);
  await page.screenshot({ path: join(SCREENSHOTS, 'domains.png'), fullPage: true });

  // A module switched off stays off for this organization, and the API sees it.
  await page.waitForSelector('body[data-hydrated="true"]');
  const wash = page.locator('input[data-module="trading/wash_trade"]');
  assert.equal(await wash.isChecked(), true);
  await wash.uncheck({ force: true });
  for (let i = 0; i < 50; i++) {
    const r = await fetch(`${aegis.url}/api/v1/domains`, { headers: { authorization: `Bearer ${aegis.apiKey}` } });
    const trading = (await r.json()).items.find((d) => d.name === 'trading');
    if (trading.disabled_modules.includes('wash_trade')) break;
    assert.ok(i < 49, 'the switch reached the server');
    await new Promise((ok) => setTimeout(ok, 100));
  }
  await page.reload();
  await page.waitForSelector('body[data-hydrated="true"]');
  assert.equal(await page.locator('input[data-module="trading/wash_trade"]').isChecked(), false);
  await page.locator('input[data-module="trading/wash_trade"]').check({ force: true });

  // A pack generated from a spec runs at once.
  await page.click('.new-pack summary');
  await page.fill('textarea[name=spec]', [
    'name: crypto', 'title: Crypto desk', 'kind: trading', 'rubric: Stay within the limits.',
    'limits:', '  max_position: 50', '  max_order_notional: 500000', '  max_leverage: 2', '  max_drawdown: 0.1',
    '  restricted: [LUNA]', '  symbols: {BTC: 60000, ETH: 3000}',
  ].join('\n'));
  await page.click('[data-testid=generate-pack]');
  await page.waitForSelector('[data-testid=pack-report]', { timeout: 30000 });
  assert.match(await page.textContent('[data-testid=pack-report]'), /The crypto pack is running/);
  await page.waitForSelector('[data-domain=crypto]');
  await page.click('[data-testid=generate-pack]');
  await page.waitForSelector('[data-testid=pack-error]');
  assert.match(await page.textContent('[data-testid=pack-error]'), /already exists/);
  assert.deepEqual(errors, []);
});

test('the healthcare and trading dashboards break evaluations down as their packs say', async () => {
  const episode = await aegis.submit({
    application_id: 'rl-execution-agent',
    ai_processing: { model: 'ppo-v3', input: 'Episode 17 on GME', output: 'Bought and sold GME.' },
    steps: [
      { kind: 'action', input: { price: 21.0 }, output: { symbol: 'GME', side: 'buy', quantity: 100, price: 21.0, stop_loss: 19.0 }, reward: -150.0 },
      { kind: 'action', input: { price: 21.5 }, output: { symbol: 'GME', side: 'sell', quantity: 100, price: 21.5 }, reward: 30.5 },
    ],
    metadata: { domain: 'trading', strategy: 'momentum', environment: 'sim' },
  });
  await aegis.evaluated(episode);
  const { page, errors } = await newPage();
  await aegis.signIn(page);

  await page.click('nav a[href="/dashboards/healthcare"]');
  const drugs = page.locator('[data-panel="medication-errors-by-drug"]');
  await drugs.waitFor();
  assert.match(await drugs.textContent(), /acetaminophen/);
  assert.match(await page.locator('[data-panel="by-specialty"]').textContent(), /primary_care/);
  assert.match(await page.locator('[data-panel=violations]').textContent(), /medication_overdose/);
  await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-healthcare.png'), fullPage: true });

  await page.click('nav a[href="/dashboards/trading"]');
  const pnl = page.locator('[data-panel="pnl-distribution"]');
  await pnl.waitFor();
  assert.match(await pnl.textContent(), /-1k to -100/);
  const strategies = await page.locator('[data-panel="by-strategy"]').textContent();
  assert.match(strategies, /momentum/);
  assert.match(strategies, /-119\.50/, 'mean PnL of the episode');
  assert.match(await page.locator('[data-panel="risk-violations-by-symbol"]').textContent(), /GME/);
  await page.screenshot({ path: join(SCREENSHOTS, 'dashboard-trading.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
