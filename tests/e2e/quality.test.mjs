// Every page type, as a browser gets it: axe-core finds no accessibility violation of any impact
// (not only none serious or critical: there are none, and it should stay so), the Nu HTML
// Checker finds no error or warning in the HTML the server sent, forms announce their errors,
// dark mode keeps its contrast, the keyboard reaches everything with the focus visible, a guide
// prints well, and no page asks any other host for anything.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { ARTIFACTS, fillStory, launchBrowser, signIn, startSite } from './lib/site.mjs';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const VNU = require.resolve('vnu-jar/build/dist/vnu.jar');

let site;
let browser;
let context;
let page;
const foreign = [];
/** The HTML of each page as the server sent it, by page name. */
const sent = new Map();
/** axe's findings, by page name. */
const findings = new Map();

before(async () => {
  site = await startSite();
  browser = await launchBrowser();
  // axe is injected as a script; the site's CSP (rightly) allows no script but its own.
  context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'ja-JP',
    bypassCSP: true,
  });
  page = await context.newPage();
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.origin !== site.base && url.protocol !== 'data:') foreign.push(r.url());
  });
});

after(async () => {
  await browser?.close();
  await site?.stop();
});

/** axe's findings on what `tab` shows now, of any impact. */
async function axeFindings(tab, name) {
  await tab.addScriptTag({ path: AXE });
  const result = await tab.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document),
  );
  assert.ok(result.passes.length > 10, `${name}: axe checked the page`);
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Checks the page now shown as `name`: keeps its HTML for vnu and runs axe in it. */
async function check(name, response) {
  assert.ok(response, `${name}: a document response`);
  sent.set(name, await response.text());
  findings.set(name, await axeFindings(page, name));
}

const go = async (name, path) => check(name, await page.goto(`${site.base}${path}`));

/** Runs `action`, which navigates (perhaps through a redirect), and checks where it leads. */
async function through(name, action) {
  const arrived = page.waitForResponse(
    (r) =>
      r.request().isNavigationRequest() &&
      r.frame() === page.mainFrame() &&
      !(r.status() >= 300 && r.status() < 400),
  );
  await action();
  const response = await arrived;
  await page.waitForLoadState();
  await check(name, response);
}

test('every page type: no accessibility violation, valid HTML, nothing from elsewhere', async () => {
  await go('home', '/');
  await go('list', '/stories');
  const story = await page.locator('.card-title a').first().getAttribute('href');
  await go('story', story);
  await go('guides', '/guides');
  const guide = await page.locator('.card-title a').first().getAttribute('href');
  await go('guide', guide);
  await go('search', `/search?q=${encodeURIComponent('ルール')}`);
  await go('search-empty', `/search?q=${encodeURIComponent('灯台守')}`);
  // What the search says it did: split at particles, related words, もしかして.
  await go('search-relaxed', `/search?q=${encodeURIComponent('長続きの秘訣')}`);
  assert.equal(await page.locator('.search-notices').count(), 1, 'the relaxed notice');
  await go('search-widened', `/search?q=${encodeURIComponent('恋人')}`);
  assert.equal(await page.locator('.search-notices a').count(), 1, 'a link to the exact word');
  await go('search-suggestion', `/search?q=${encodeURIComponent('ボランテア')}`);
  assert.equal((await page.locator('.suggestion a').textContent()).trim(), 'ボランティア');
  await go('tag', '/tags/%E3%83%AB%E3%83%BC%E3%83%AB');
  await go('submit', '/stories/new');

  // Sent empty: the errors are listed in an alert and each field points at its message.
  await through('submit-errors', () => page.getByRole('button', { name: '送信する' }).click());
  assert.equal(await page.locator('.error-summary[role=alert]').count(), 1);
  const title = page.locator('#title');
  assert.equal(await title.getAttribute('aria-invalid'), 'true');
  const described = (await title.getAttribute('aria-describedby')).split(' ');
  const messages = await Promise.all(described.map((id) => page.locator(`#${id}`).textContent()));
  assert.ok(messages.some((m) => /タイトル/.test(m)), `title described by ${messages}`);

  await fillStory(page, '品質確認の話');
  await through('receipt', () => page.getByRole('button', { name: '送信する' }).click());
  const code = (await page.locator('#receipt-code').textContent()).trim();

  await go('status-form', '/stories/status');
  await page.getByLabel('受付番号').fill(code);
  await through('status', () => page.getByRole('button', { name: '確認する' }).click());

  await go('login', '/mod/login');
  await signIn(page, site, 'moderator');
  await go('queue', '/mod');
  const moderation = await page.locator('table.queue a.story-title').first().getAttribute('href');
  await go('moderation', moderation);
  await go('log', '/mod/log');
  await page.context().clearCookies();
  await signIn(page, site, 'editor');
  await go('synonyms', '/mod/synonyms');

  const problems = [...findings].filter(([, bad]) => bad.length > 0);
  assert.deepEqual(problems, [], 'axe: violations');

  const dir = mkdtempSync(join(tmpdir(), 'engawa-vnu-'));
  try {
    const files = [...sent].map(([name, html]) => {
      const file = join(dir, `${name}.html`);
      writeFileSync(file, html);
      return file;
    });
    const vnu = spawnSync('java', ['-jar', VNU, '--format', 'json', ...files], {
      encoding: 'utf8',
    });
    assert.equal(vnu.error, undefined, 'java runs');
    const report = JSON.parse(vnu.stderr);
    assert.equal(vnu.status, report.messages.length > 0 ? 1 : 0, vnu.stderr);
    const errors = report.messages.map(
      (m) => `${m.url.split('/').pop()}:${m.lastLine}: ${m.message} — ${(m.extract || '').trim()}`,
    );
    assert.deepEqual(errors, [], 'vnu: HTML errors and warnings');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  assert.deepEqual(foreign, [], 'no request leaves the site');
});

test('in dark mode, following the system setting, text keeps AA contrast', async () => {
  const dark = await browser.newContext({ colorScheme: 'dark', bypassCSP: true, locale: 'ja-JP' });
  const tab = await dark.newPage();
  const problems = [];
  for (const path of ['/', '/stories', '/guides', '/search?q=%E3%83%AB%E3%83%BC%E3%83%AB', '/stories/new', '/mod/login']) {
    await tab.goto(`${site.base}${path}`);
    const background = await tab.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(background, 'rgb(255, 255, 255)', `${path}: a dark background`);
    problems.push(...(await axeFindings(tab, path)).map((f) => `${path}: ${f}`));
  }
  // A form with its errors shown.
  await tab.goto(`${site.base}/stories/new`);
  await tab.getByRole('button', { name: '送信する' }).click();
  await tab.locator('.error-summary').waitFor();
  problems.push(...(await axeFindings(tab, 'submit-errors')).map((f) => `submit-errors: ${f}`));
  assert.deepEqual(problems, []);
  await dark.close();
});

/** Where the keyboard focus is, and whether it can be seen. */
function focused(tab) {
  return tab.evaluate(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
    return {
      id: el.id,
      tag: el.tagName.toLowerCase(),
      text: (el.textContent || '').trim().slice(0, 20),
      visible: outline || style.boxShadow !== 'none',
    };
  });
}

/** Presses Tab until the element with `id` has the focus; every stop must show its focus. */
async function tabTo(tab, id, seen) {
  for (let i = 0; i < 60; i++) {
    await tab.keyboard.press('Tab');
    const now = await focused(tab);
    seen.push(now);
    if (now.id === id) return;
  }
  throw new Error(`#${id} was not reached with Tab; stops: ${JSON.stringify(seen.map((s) => s.id || s.text))}`);
}

test('a story can be sent with the keyboard alone, and the focus is always visible', async () => {
  const keyboard = await browser.newContext({ locale: 'ja-JP' });
  const tab = await keyboard.newPage();
  await tab.goto(`${site.base}/stories/new`);
  const seen = [];
  await tab.keyboard.press('Tab');
  const skip = await focused(tab);
  assert.equal(skip.text, '本文へ移動', 'the first stop skips to the content');
  seen.push(skip);
  await tab.keyboard.press('Enter');
  await tabTo(tab, 'title', seen);
  await tab.keyboard.type('キーボードだけで送る話');
  await tabTo(tab, 'body', seen);
  await tab.keyboard.type('会うのは月に一度、昼間の喫茶店だけと決めています。連絡は平日の昼だけにして、家族の予定を最優先にしています。');
  await tabTo(tab, 'length_years', seen);
  await tab.keyboard.type('2');
  await tabTo(tab, 'how_met-hobby', seen);
  await tab.keyboard.press('Space');
  await tabTo(tab, 'continuing-yes', seen);
  await tab.keyboard.press('Space');
  const submit = tab.getByRole('button', { name: '送信する' });
  for (let i = 0; i < 30 && !(await submit.evaluate((b) => b === document.activeElement)); i++) {
    await tab.keyboard.press('Tab');
    seen.push(await focused(tab));
  }
  await tab.keyboard.press('Enter');
  await tab.waitForURL('**/stories/receipt');
  assert.match(await tab.locator('#receipt-code').textContent(), /[0-9A-Z]{5}-/);
  const unseen = seen.filter((s) => !s.visible);
  assert.deepEqual(unseen, [], 'every focus stop shows its focus');
  await keyboard.close();
});

test('a guide prints as its text alone, black on white', async () => {
  const printing = await browser.newContext({ locale: 'ja-JP' });
  const tab = await printing.newPage();
  await tab.goto(`${site.base}/guides`);
  await tab.locator('.card-title a').first().click();
  await tab.emulateMedia({ media: 'print' });
  const shown = (selector) =>
    tab.locator(selector).first().evaluate((el) => getComputedStyle(el).display !== 'none');
  assert.equal(await shown('.site-header nav'), false, 'no site navigation on paper');
  assert.equal(await shown('.site-footer'), false, 'no footer on paper');
  assert.equal(await shown('.prose'), true, 'the text is printed');
  const colors = await tab.evaluate(() => {
    const s = getComputedStyle(document.body);
    return [s.backgroundColor, s.color];
  });
  assert.deepEqual(colors, ['rgb(255, 255, 255)', 'rgb(0, 0, 0)']);
  mkdirSync(ARTIFACTS, { recursive: true });
  await tab.pdf({ path: join(ARTIFACTS, 'guide.pdf'), format: 'A4' });
  await printing.close();
});

/**
 * Tabs through the whole page: every link, button and field is reached (a radio group once),
 * nothing traps the focus, and every stop shows its focus. Returns what went wrong.
 */
async function tabThrough(tab, path) {
  const total = await tab.evaluate(() => {
    const seenGroups = new Set();
    let n = 0;
    for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary',
    )) {
      if (el.tabIndex < 0 || el.disabled || el.closest('[aria-hidden=true]')) continue;
      if (el.getClientRects().length === 0) continue;
      if (el.type === 'radio') {
        if (seenGroups.has(el.name)) continue;
        seenGroups.add(el.name);
      }
      el.dataset.stop = String(n++);
    }
    return n;
  });
  assert.ok(total > 2, `${path}: ${total} controls found`);
  const reached = new Set();
  const problems = [];
  for (let i = 0; i < total + 3 && reached.size < total; i++) {
    await tab.keyboard.press('Tab');
    const now = await focused(tab);
    const stop = await tab.evaluate(() => {
      const el = document.activeElement;
      return el.type === 'radio'
        ? document.querySelector(`[data-stop][name="${el.name}"]`)?.dataset.stop
        : el.dataset.stop;
    });
    if (stop !== undefined) reached.add(stop);
    if (!now.visible) problems.push(`${path}: focus on ${now.tag}#${now.id} "${now.text}" is not visible`);
  }
  if (reached.size < total) problems.push(`${path}: Tab reached ${reached.size} of ${total} controls`);
  return problems;
}

test('on every page type the keyboard reaches every control, with its focus visible', async () => {
  const keyboard = await browser.newContext({ locale: 'ja-JP' });
  const tab = await keyboard.newPage();
  const problems = [];
  await tab.goto(`${site.base}/stories`);
  const storyPath = await tab.locator('.card-title a').first().getAttribute('href');
  await tab.goto(`${site.base}/guides`);
  const guidePath = await tab.locator('.card-title a').first().getAttribute('href');
  for (const path of [
    '/',
    '/stories',
    storyPath,
    '/guides',
    guidePath,
    `/search?q=${encodeURIComponent('ルール')}`,
    '/stories/new',
    '/stories/status',
    '/subscribe',
    '/mod/login',
  ]) {
    await tab.goto(`${site.base}${path}`);
    problems.push(...(await tabThrough(tab, path)));
  }
  await signIn(tab, site, 'moderator');
  for (const path of ['/mod', '/mod/log']) {
    await tab.goto(`${site.base}${path}`);
    problems.push(...(await tabThrough(tab, path)));
  }
  assert.deepEqual(problems, []);
  await keyboard.close();
});
