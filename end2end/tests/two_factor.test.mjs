// Two-factor sign-in in the browser: an admin turns it on from Settings with an authenticator
// code, and from then on signing in asks for a code, refuses a wrong one, takes a right one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
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

/** RFC 4648 base32, as authenticator apps read the key. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) throw new Error(`not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 with an authenticator app's settings: HMAC-SHA1, 30-second steps, six digits. */
function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, '0');
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);

test('an admin turns on two-factor sign-in, and signing in then needs the code', async () => {
  const email = aegis.addUser('tess', 'admin');
  const page = await (await chromium.newContext()).newPage();
  await aegis.signIn(page, email);
  await page.goto(`${aegis.url}/settings`);
  await page.waitForSelector('body[data-hydrated="true"]');
  await page.click('[data-testid=totp-start]');
  const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
  assert.match(await page.textContent('[data-testid=totp-uri]'), /^otpauth:\/\/totp\//);
  const step = stepNow();
  await page.fill('[data-testid=two-factor] [data-testid=totp-code]', totp(secret, step));
  await page.click('[data-testid=totp-confirm]');
  await page.waitForSelector('[data-testid=totp-on]');
  await page.locator('[data-testid=two-factor]').screenshot({ path: join(SCREENSHOTS, 'settings-two-factor.png') });

  // A new browser: the password alone is not enough.
  const fresh = await (await chromium.newContext()).newPage();
  await fresh.goto(`${aegis.url}/login`);
  await fresh.waitForSelector('body[data-hydrated="true"]');
  await fresh.fill('#email', email);
  await fresh.fill('#password', aegis.password);
  await fresh.click('button[type=submit]');
  await fresh.waitForSelector('#code');
  assert.match(await fresh.textContent('[role=alert]'), /Two-factor sign-in is on/);

  // A wrong code is refused; the app's next code (a step on: each code works once) lets them in.
  const right = totp(secret, step + 1);
  await fresh.fill('#code', right === '000000' ? '111111' : '000000');
  await fresh.click('button[type=submit]');
  await fresh.waitForFunction(() => document.querySelector('[role=alert]')?.textContent.includes('That code is not right'));
  await fresh.fill('#code', right);
  await fresh.click('button[type=submit]');
  await fresh.waitForSelector('[data-testid=overview-stats]');
  assert.equal(await fresh.textContent('[data-testid=role]'), 'admin');
});
