// What the browser tests share: Debian's Chromium through playwright-core (skipped with a notice outside CI when it
// is missing, a failure under CI=true), chipwatch in-process on aedes and a fresh database for the file, a watch on
// the page's console errors, and signing in with a token.
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

/** Whether `describe.skipIf` should skip a browser suite: only outside CI when Chromium is missing (with a notice). */
export function skipWithoutChromium(suite: string): boolean {
  if (haveChromium) return false;
  if (process.env.CI !== 'true')
    console.warn(`${suite} skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
  return process.env.CI !== 'true';
}

/** Headless Chromium; under CI=true a missing one fails with what .ci/run must install. */
export async function launchChromium(): Promise<Browser> {
  if (!haveChromium)
    throw new Error(`CI=true but ${CHROMIUM} is missing: .ci/run must \`apt-get install -y chromium\``);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
  });
}

/** The file's chipwatch and broker (tests/helpers/stack.ts), with the voyage's tracker closed first. */
export { useChipwatch } from '../helpers/stack.ts';

/**
 * Console errors and uncaught exceptions of a page. A refused resource is not one when its status is one the page
 * expects (`expected`, e.g. /40[34]/ for a signed-out fetch and a missing shipment).
 */
export function watchProblems(page: Page, expected: RegExp): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    const refused = /^Failed to load resource: the server responded with a status of (\d+)/.exec(m.text());
    if (m.type() === 'error' && !(refused && expected.test(refused[1]!))) problems.push(m.text());
  });
  return problems;
}

/** Opens `url`, signs in with `token` and waits until `ready` (a selector of the signed-in page) is visible. */
export async function signIn(page: Page, url: string, token: string, ready: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator(ready).waitFor({ state: 'visible' });
}
