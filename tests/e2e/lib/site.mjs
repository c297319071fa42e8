// The real site for browser tests: the engawa binary (ENGAWA_BIN, set by tests/browser.rs) on a
// free port with the demo content in a fresh SQLite data folder, staff accounts made with its own
// CLI, and Debian's chromium driven by playwright-core.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = join(here, '..', '..', '..', 'target', 'e2e');
export const PASSWORD = 'e2e-password-long-enough';
export const STAFF = {
  moderator: { email: 'sato@engawa.test', role: 'moderator' },
  editor: { email: 'kato@engawa.test', role: 'editor' },
};
export const SIZES = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 800 },
};

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitReady(base, child, output) {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) {
      throw new Error(`engawa exited with ${child.exitCode}:\n${output.join('')}`);
    }
    try {
      const res = await fetch(`${base}/readyz`);
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`engawa was not ready within 60 s:\n${output.join('')}`);
}

/** Starts a site of its own; `stop()` ends it and removes its data. */
export async function startSite() {
  const bin = process.env.ENGAWA_BIN;
  if (!bin) throw new Error('ENGAWA_BIN is not set; run these tests with `cargo test`');
  const dir = mkdtempSync(join(tmpdir(), 'engawa-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    ENGAWA_BIND: `127.0.0.1:${port}`,
    ENGAWA_DATA_DIR: dir,
    ENGAWA_CONFIG: '/dev/null',
    ENGAWA_FEED_DELAY_MINUTES: '0',
    // Playwright fills the form faster than any person; the wait is tested in tests/app.
    ENGAWA_MIN_FILL_SECONDS: '0',
    ENGAWA_LOG: 'warn',
  };
  delete env.DATABASE_URL;
  for (const { email, role } of Object.values(STAFF)) {
    const made = spawnSync(bin, ['user', 'add', '--email', email, '--role', role], {
      env,
      input: `${PASSWORD}\n`,
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new Error(`user add failed: ${made.stderr}`);
  }
  const child = spawn(bin, ['serve', '--demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  child.stdout.on('data', (d) => output.push(d.toString()));
  child.stderr.on('data', (d) => output.push(d.toString()));
  await waitReady(base, child, output);
  return {
    base,
    output,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update'],
  });
}

/**
 * A fresh visitor (own cookies) at `size`, with or without JavaScript. Every request the page
 * makes to another origin is recorded in `foreign`.
 */
export async function visitor(browser, site, { size, js }) {
  const context = await browser.newContext({
    viewport: SIZES[size],
    javaScriptEnabled: js,
    locale: 'ja-JP',
    isMobile: size === 'phone',
    hasTouch: size === 'phone',
  });
  const page = await context.newPage();
  const foreign = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin !== site.base && url.protocol !== 'data:') foreign.push(request.url());
  });
  return { context, page, foreign };
}

/** A full-page screenshot under target/e2e/, kept by CI as an artifact. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Signs `page` in as one of STAFF. */
export async function signIn(page, site, who) {
  await page.goto(`${site.base}/mod/login`);
  await page.getByLabel('メールアドレス').fill(STAFF[who].email);
  await page.getByLabel('パスワード').fill(PASSWORD);
  await page.getByRole('button', { name: 'ログイン' }).click();
  await page.waitForURL(/\/mod(\/|$|\?)/);
}

/** Fills the story form shown on `page` with a valid story called `title`. */
export async function fillStory(page, title) {
  await page.getByLabel('タイトル').fill(title);
  await page
    .getByLabel('本文')
    .fill(
      '職場の勉強会で知り合って、もうすぐ四年になります。会うのは月に一度、昼間の喫茶店だけと決めています。' +
        'お互いの家族の予定を最優先にして、連絡は平日の昼だけにしています。ルールは季節ごとに見直してきました。',
    );
  await page.getByLabel('ペンネーム').fill('みどり');
  await page.getByLabel('年', { exact: true }).fill('3');
  await page.getByLabel('か月', { exact: true }).fill('10');
  await page.getByLabel('職場', { exact: true }).check();
  await page.getByLabel('続いている', { exact: true }).check();
}
