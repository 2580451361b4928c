// Every page fits a 1280-pixel window and up with nothing cut off, and stays usable on a phone
// (390 pixels): the page itself never scrolls sideways, and a table too wide for the screen
// scrolls inside its own box instead of losing its last columns.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Aegis, browser, SCREENSHOTS } from '../harness.mjs';

let aegis;
let chromium;
let traceId;

before(async () => {
  aegis = await Aegis.start();
  chromium = await browser();
  const long = 'Summarize the discharge instructions after a three-day stay for community-acquired pneumonia, including the antibiotic course, follow-up chest imaging and warning signs that should prompt a return visit.';
  for (const [i, output] of ['Take amoxicillin 1 g three times a day for 5 days. Ask your doctor if unsure.', 'Take acetaminophen 1000 mg every 4 hours for the fever.'].entries()) {
    traceId = await aegis.submit({
      application_id: `discharge-summary-assistant-with-a-long-name-${i}`,
      ai_processing: { model: 'gpt-4o-2024-08-06', input: long, output },
      metadata: { domain: 'healthcare' },
    });
    await aegis.evaluated(traceId);
  }
});

after(async () => {
  await chromium?.close();
  aegis?.stop();
});

/** What sticks out at this width: the page scrolling sideways, or a table cut off by a box that does not scroll. */
async function overflows(page) {
  return page.evaluate(() => {
    const problems = [];
    const width = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > width + 1) {
      problems.push(`the page is ${document.documentElement.scrollWidth}px wide in a ${width}px window`);
    }
    for (const table of document.querySelectorAll('table')) {
      let scroller = table;
      while (scroller && !['auto', 'scroll'].includes(getComputedStyle(scroller).overflowX)) scroller = scroller.parentElement;
      const cells = table.querySelectorAll('tr:first-child > *');
      const last = cells[cells.length - 1];
      if (!last) continue;
      const right = last.getBoundingClientRect().right;
      // Inside a box that scrolls, the rest is a swipe away; elsewhere it must be on screen.
      if (!scroller && right > width + 1) {
        problems.push(`a table's last column "${last.textContent.trim()}" ends at ${Math.round(right)}px, past ${width}px`);
      }
      if (getComputedStyle(table).overflowX === 'hidden' && table.scrollWidth > table.clientWidth + 1) {
        problems.push(`a table hides ${table.scrollWidth - table.clientWidth}px of its columns`);
      }
    }
    return problems;
  });
}

for (const width of [1440, 1280, 390]) {
  test(`every page fits a ${width}px window`, async () => {
    const page = await chromium.newPage({ viewport: { width, height: 900 } });
    await aegis.signIn(page);
    const found = {};
    for (const path of ['/', '/traces', `/traces/${traceId}`, '/analytics', '/domains', '/review', '/models', '/dashboards/healthcare', '/settings']) {
      await page.goto(`${aegis.url}${path}`);
      await page.waitForSelector('body[data-hydrated="true"]');
      await page.waitForLoadState('networkidle');
      const problems = await overflows(page);
      if (problems.length) found[path] = problems;
      if (path === '/traces') await page.screenshot({ path: join(SCREENSHOTS, `traces-${width}.png`), fullPage: true });
    }
    await page.close();
    assert.deepEqual(found, {}, `at ${width}px`);
  });
}
