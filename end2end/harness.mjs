// Starts a real Aegis (the built binary, a fresh SQLite database) and a real Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..');
const BIN = process.env.AEGIS_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'aegis');
export const SCREENSHOTS = join(ROOT, 'end2end', 'screenshots');

async function freePort() {
  return new Promise((ok, fail) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
    server.on('error', fail);
  });
}

/** Polls `check` (sync or async) until it returns something truthy, which it returns. */
export async function until(what, check, ms = 10000) {
  const start = Date.now();
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class Aegis {
  static async start() {
    const dataDir = mkdtempSync(join(tmpdir(), 'aegis-e2e-'));
    // A copy of the packs: tests may add one, and must not touch the checkout.
    cpSync(join(ROOT, 'domains'), join(dataDir, 'domains'), { recursive: true });
    const env = {
      ...process.env,
      AEGIS_DATA_DIR: dataDir,
      AEGIS_DOMAINS_DIR: join(dataDir, 'domains'),
      LEPTOS_SITE_ROOT: join(ROOT, 'target', 'site'),
      AEGIS_LOG: 'warn',
      // The tests' webhook and Slack receivers listen on loopback.
      AEGIS_WEBHOOK_ALLOW_PRIVATE: '1',
      // The tests add a second organization, which turns pack uploads off unless the operator
      // says otherwise; the Domains test uploads one.
      AEGIS_ALLOW_PACK_UPLOADS: 'true',
    };
    delete env.DATABASE_URL;
    const run = (args, input) => execFileSync(BIN, args, { env, cwd: ROOT, encoding: 'utf8', input });
    const org = JSON.parse(run(['org', 'create', 'Riverside Clinic', '--json']));
    const email = 'reviewer@riverside.test';
    const password = 'correct-horse-battery';
    run(['user', 'create', '--org', org.organization_id, '--email', email, '--password-stdin'], password);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    env.AEGIS_PUBLIC_URL = url;
    const server = spawn(BIN, ['serve', '--addr', `127.0.0.1:${port}`], { env, cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    const aegis = new Aegis(url, org.api_key, email, password, server, dataDir);
    aegis.run = run;
    aegis.orgId = org.organization_id;
    await aegis.waitHealthy();
    return aegis;
  }

  constructor(url, apiKey, email, password, server, dataDir) {
    Object.assign(this, { url, apiKey, email, password, server, dataDir });
  }

  async waitHealthy() {
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(`${this.url}/health`);
        if (r.ok) return;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('aegis did not become healthy');
  }

  /** A second organization, with its own admin key: `{organization_id, api_key}`. */
  createOrg(name) {
    return JSON.parse(this.run(['org', 'create', name, '--json']));
  }

  /** Adds a dashboard user with `role` to the organization; resolves to their email. */
  addUser(name, role) {
    const email = `${name}@riverside.test`;
    this.run(['user', 'create', '--org', this.orgId, '--email', email, '--role', role, '--password-stdin'], this.password);
    return email;
  }

  /** Signs `page` in as the organization's user (its owner unless `email` says otherwise);
   *  resolves on the hydrated Overview. */
  async signIn(page, email = this.email) {
    await page.goto(`${this.url}/login`);
    await page.waitForSelector('body[data-hydrated="true"]');
    await page.fill('#email', email);
    await page.fill('#password', this.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=overview-stats]');
    await page.waitForSelector('body[data-hydrated="true"]');
  }

  async submit(trace, apiKey = this.apiKey) {
    const r = await fetch(`${this.url}/api/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(trace),
    });
    if (r.status !== 201) throw new Error(`submit: ${r.status} ${await r.text()}`);
    return (await r.json()).trace_id;
  }

  async evaluated(traceId, apiKey = this.apiKey) {
    for (let i = 0; i < 100; i++) {
      const r = await fetch(`${this.url}/api/v1/evaluations/${traceId}`, { headers: { authorization: `Bearer ${apiKey}` } });
      if (r.status === 200) return r.json();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`trace ${traceId} was not evaluated`);
  }

  stop() {
    this.server.kill('SIGTERM');
    this.server.once('exit', () => rmSync(this.dataDir, { recursive: true, force: true }));
  }
}

// playwright's launch() gives every browser a fresh, empty profile of its own.
export async function browser() {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}
