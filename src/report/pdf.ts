// The incident report as PDF: the same HTML printed by a headless Chromium (playwright-core drives the browser the
// system has installed; none is downloaded). Where no browser is installed, `pdfAvailable` says so and the route
// answers 501. One print at a time: a browser costs ~150 MB, and a report is an occasional thing.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export const pdfAvailable = (chromiumPath = DEFAULT_CHROMIUM) => existsSync(chromiumPath);

let queue: Promise<unknown> = Promise.resolve();

/** Prints `html` to an A4 PDF with its backgrounds, JavaScript off and every network request refused. */
export function htmlToPdf(html: string, chromiumPath = DEFAULT_CHROMIUM): Promise<Buffer> {
  const job = queue.then(async () => {
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const context = await browser.newContext({ javaScriptEnabled: false });
      await context.route('**/*', (route) => route.abort());
      const page = await context.newPage();
      await page.setContent(html, { waitUntil: 'load' });
      return await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
    } finally {
      await browser.close();
    }
  });
  queue = job.catch(() => undefined);
  return job;
}
