// The four journeys of the site in a real browser, at phone and desktop size, with and without
// JavaScript: a reader browsing, filtering, searching and reading; a submitter sending a story,
// keeping the receipt, checking the status and withdrawing; a moderator approving from the queue
// so the story appears on the site and in search; an editor writing and publishing a guide.
// Every page must make no request to any other host.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { fillStory, launchBrowser, screenshot, signIn, startSite, visitor } from './lib/site.mjs';

/** Sends a story through the form, from the home page; returns the receipt code shown. */
async function sendStory(page, site, title) {
  await page.goto(`${site.base}/`);
  await page.getByRole('link', { name: '体験談を送る' }).first().click();
  await fillStory(page, title);
  await page.getByRole('button', { name: '送信する' }).click();
  await page.waitForURL('**/stories/receipt');
  const code = (await page.locator('#receipt-code').textContent()).trim();
  assert.match(code, /^[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$/);
  return code;
}

for (const size of ['phone', 'desktop']) {
  for (const js of [true, false]) {
    const mode = `${size}-${js ? 'js' : 'nojs'}`;
    describe(`${size}, JavaScript ${js ? 'on' : 'off'}`, () => {
      let site;
      let browser;
      const visitors = [];
      const open = async () => {
        const v = await visitor(browser, site, { size, js });
        visitors.push(v);
        return v.page;
      };

      before(async () => {
        site = await startSite();
        browser = await launchBrowser();
      });
      after(async () => {
        for (const v of visitors) {
          assert.deepEqual(v.foreign, [], 'no request leaves the site');
        }
        await browser?.close();
        await site?.stop();
      });

      test('a reader browses, filters, searches and reads', async () => {
        const page = await open();
        await page.goto(`${site.base}/`);
        assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
        await screenshot(page, `${mode}-home`);

        await page.getByRole('navigation').getByRole('link', { name: '体験談', exact: true }).click();
        await page.waitForURL('**/stories');
        const all = await page.locator('.card-title').count();
        assert.ok(all > 1, `${all} stories listed`);
        await screenshot(page, `${mode}-stories`);

        await page.getByLabel('出会いのきっかけ').selectOption({ label: '趣味のコミュニティ' });
        await page.getByRole('button', { name: '絞り込む' }).click();
        await page.waitForURL(/how_met=hobby/);
        const facts = await page.locator('.story-card .facts').allTextContents();
        assert.ok(facts.length > 0 && facts.length < all, `${facts.length} of ${all}`);
        for (const f of facts) assert.match(f, /趣味のコミュニティ/);

        await page.getByRole('navigation').getByRole('link', { name: '検索', exact: true }).click();
        await page.getByLabel('検索する言葉').fill('ルール');
        await page.getByLabel('検索する言葉').press('Enter');
        await page.waitForURL(/\/search\?q=/);
        assert.match(await page.locator('.result-count').textContent(), /「ルール」：[1-9]\d*件/);
        await screenshot(page, `${mode}-search`);

        const first = page.locator('.results .card-title a').first();
        const title = (await first.textContent()).trim();
        await first.click();
        assert.equal((await page.locator('h1').textContent()).trim(), title);
        await screenshot(page, `${mode}-result`);

        await page.getByRole('navigation').getByRole('link', { name: 'ガイド', exact: true }).click();
        await page.locator('.card-title a').first().click();
        assert.match(page.url(), /\/guides\/[a-z0-9-]+$/);
        assert.ok((await page.locator('.prose h2').count()) > 0, 'the guide has sections');
        await screenshot(page, `${mode}-guide`);
      });

      test('a person submits a story, keeps the receipt, checks the status and withdraws', async () => {
        const page = await open();
        const code = await sendStory(page, site, `取り下げる話（${mode}）`);
        await screenshot(page, `${mode}-receipt`);

        await page.getByRole('link', { name: '受付状況の確認ページ' }).click();
        await page.getByLabel('受付番号').fill(code.toLowerCase());
        await page.getByRole('button', { name: '確認する' }).click();
        assert.equal((await page.locator('.status-label').textContent()).trim(), '審査待ち');
        await screenshot(page, `${mode}-status`);

        await page.getByLabel('内容が削除されることを理解しました').check();
        await page.getByRole('button', { name: '取り下げる' }).click();
        await page.waitForURL('**/stories/status/done**');
        assert.match(await page.locator('h1').textContent(), /取り下げ/);
      });

      test('a moderator approves from the queue, and the story is on the site and in search', async () => {
        const submitter = await open();
        const title = `承認される話 ${mode}`;
        await sendStory(submitter, site, title);

        const page = await open();
        await signIn(page, site, 'moderator');
        await page.goto(`${site.base}/mod`);
        await screenshot(page, `${mode}-queue`);
        // On a phone the queue is a column of cards, and nothing makes the page scroll sideways.
        const layout = await page.evaluate(() => ({
          scroll: document.scrollingElement.scrollWidth,
          width: window.innerWidth,
          row: getComputedStyle(document.querySelector('table.queue tbody tr')).display,
          head: document.querySelector('table.queue thead').getBoundingClientRect().height,
          card: document.querySelector('table.queue tbody tr').getBoundingClientRect().right,
        }));
        assert.equal(layout.row, size === 'phone' ? 'block' : 'table-row', 'queue rows as cards on a phone only');
        if (size === 'phone') {
          assert.ok(layout.head <= 1, 'the column heads give way to labels on each card');
          assert.ok(layout.card <= layout.width, `a card fits the screen: right edge at ${layout.card}px`);
        }
        assert.ok(layout.scroll <= layout.width, `the queue fits: ${layout.scroll}px wide in ${layout.width}px`);
        // The title link: the same story sent in another mode may be listed as similar.
        await page.locator('table.queue a.story-title', { hasText: title }).click();
        await screenshot(page, `${mode}-moderation`);
        await page.goto(`${site.base}/mod`);
        await page.getByLabel(`${title}を選択`).check();
        await page.getByRole('button', { name: '承認する' }).click();
        assert.match(await page.locator('.notice').textContent(), /1件を承認しました/);

        const reader = await open();
        await reader.goto(`${site.base}/stories`);
        await reader.getByRole('link', { name: title }).click();
        assert.equal((await reader.locator('h1').textContent()).trim(), title);
        // The index follows within moments; a reader who searches again finds it.
        let found = 0;
        for (let i = 0; i < 50 && found === 0; i++) {
          await reader.goto(`${site.base}/search?q=${encodeURIComponent(mode)}`);
          found = await reader.getByRole('link', { name: title }).count();
          if (found === 0) await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(found, 1, 'the approved story is found by search');
      });

      test('an editor writes and publishes a guide', async () => {
        const page = await open();
        await signIn(page, site, 'editor');
        await page.goto(`${site.base}/mod/guides/new`);
        const title = `季節ごとの見直し（${mode}）`;
        await page.getByLabel('タイトル').fill(title);
        await page.getByLabel('スラッグ').fill(`review-${mode}`);
        await page.getByLabel('概要').fill('ルールを季節ごとに見直す方法をまとめました。');
        await page
          .getByLabel('本文')
          .fill('## 見直す時期\n\n季節の変わり目に、ふたりで**ルール**を読み返します。\n\n## 見直すこと\n\n- 連絡の時間\n- 会う場所');
        await screenshot(page, `${mode}-guide-editor`);
        await page.getByRole('button', { name: '公開する' }).click();
        await page.waitForURL(/\/mod\/guides(\?|$)/);

        const reader = await open();
        await reader.goto(`${site.base}/guides`);
        await reader.getByRole('link', { name: title }).click();
        assert.equal((await reader.locator('h1').textContent()).trim(), title);
        assert.equal(await reader.locator('.prose h2').count(), 2);
      });
    });
  }
}
