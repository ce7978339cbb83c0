// What every browser test needs: headless Debian Chromium (missing: a failure in CI, a skip elsewhere), the current
// web/ built, a signed-in page, and screenshots under test-artifacts/.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

const chromiumPath = '/usr/bin/chromium';
const artifacts = path.resolve(import.meta.dirname, '../../test-artifacts');

/** A headless browser closed after the test, or null when the test was skipped. Builds web/ first (a no-op when fresh). */
export async function launch(t: TestContext): Promise<Browser | null> {
  if (!existsSync(chromiumPath)) {
    if (process.env.CI === 'true') assert.fail(`${chromiumPath} is missing (apt-get install -y chromium)`);
    t.skip(`${chromiumPath} not installed (apt-get install -y chromium)`);
    return null;
  }
  mkdirSync(artifacts, { recursive: true });
  const build = spawnSync(path.resolve(import.meta.dirname, '../../scripts/build-web'), { encoding: 'utf8' });
  assert.equal(build.status, 0, `build-web failed: ${build.stderr}`);
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  return browser;
}

export async function signIn(page: Page, url: string, key: string): Promise<void> {
  await page.goto(url + '/');
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.fill('input[name=key]', key);
  await page.click('#login button');
  await page.waitForSelector('header select#depot');
}

export const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
