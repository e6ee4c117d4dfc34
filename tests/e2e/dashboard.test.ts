// The compliance dashboard in a real browser (Debian's Chromium driven by playwright-core) against chipwatch
// in-process with a real PostgreSQL and broker: a sea shipment's signed telemetry over MQTT, a diversion into
// China raising alerts that reach the open page live, acknowledged and resolved from it, and checked through the API.
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKey } from '../../device-sim/keys.ts';
import { Tracker } from '../../device-sim/tracker.ts';
import { mintToken, type Role } from '../../src/auth.ts';
import type { Fix } from '../../src/checks/types.ts';
import { haversineKm } from '../../src/geo/spherical.ts';
import { launchChromium, signIn, skipWithoutChromium, useChipwatch, watchProblems } from './browser.ts';
import { hainanScenario, registerVoyage } from './hainan.ts';

type Box = { top: number; bottom: number; width: number; height: number };
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
const env = useChipwatch();

describe('dashboard files', () => {
  it('are served by chipwatch itself under a strict Content-Security-Policy, and nothing outside them', async () => {
    const index = await fetch(`${env.cw.httpUrl}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = index.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await index.text();
    // No inline script: the strict policy would block it.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);

    // Leaflet and the country outlines come from chipwatch, not a CDN or a tile server.
    const leaflet = await fetch(`${env.cw.httpUrl}/dashboard/vendor/leaflet/leaflet-src.esm.js`);
    expect(leaflet.status).toBe(200);
    expect(leaflet.headers.get('content-type')).toMatch(/^text\/javascript/);
    const countries = await fetch(`${env.cw.httpUrl}/dashboard/countries.geojson`);
    expect(countries.headers.get('content-encoding')).toBe('gzip'); // fetch asks for it and undoes it
    const outlines = (await countries.json()) as { features: { id: string }[] };
    expect(outlines.features.map((f) => f.id)).toEqual(expect.arrayContaining(['CN', 'RU', 'NL', 'TW']));
    // Revalidation is cheap: an unchanged file answers 304.
    const again = await fetch(`${env.cw.httpUrl}/dashboard/css/dashboard.css`);
    const etag = again.headers.get('etag')!;
    expect(
      (await fetch(`${env.cw.httpUrl}/dashboard/css/dashboard.css`, { headers: { 'If-None-Match': etag } }))
        .status,
    ).toBe(304);

    for (const path of [
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/nope.js',
    ]) {
      expect((await fetch(`${env.cw.httpUrl}${path}`)).status, path).toBe(404);
    }
  });

  it('GET /v1/policy gives the map its country tiers, to a signed-in user only', async () => {
    expect((await env.cw.api('GET', '/v1/policy', { role: null })).status).toBe(401);
    const res = await env.cw.api('GET', '/v1/policy', { role: 'logistics' });
    expect(res.status).toBe(200);
    expect(res.body.tiers).toMatchObject({
      CN: 'restricted',
      RU: 'restricted',
      AE: 'licenseRequired',
      SG: 'watch',
    });
    expect(res.body.tiers.NL).toBeUndefined();
    expect(res.body.checkedAt).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

// ——— the browser tests ———

const SHIPMENT = 'shp-dash-1';

/** Leaflet redraws its layers when a pan or zoom ends: screenshots wait for that. */
const mapSettled = (page: Page) => page.locator('#map:not([data-moving])').waitFor();

/** Whether chipwatch has the SSE stream yet (another part of the project builds it): decides which mode to expect. */
async function streamMode(): Promise<'stream' | 'polling'> {
  const abort = new AbortController();
  const res = await fetch(`${env.cw.httpUrl}/v1/alerts/stream`, {
    headers: { authorization: `Bearer ${await env.cw.token('compliance')}` },
    signal: abort.signal,
  });
  abort.abort();
  return res.status === 404 ? 'polling' : 'stream';
}

describe.skipIf(skipWithoutChromium('dashboard in Chromium'))('dashboard in Chromium', () => {
  let browser: Browser;
  let send: (fixes: Fix[]) => Promise<void>;
  const scenario = hainanScenario();

  beforeAll(async () => {
    browser = await launchChromium();
    // A custom restricted zone (the port of Sevastopol), to be outlined on the map.
    const zone = await env.cw.api('POST', '/v1/zones', {
      body: {
        id: 'zone-sevastopol',
        name: 'Sevastopol port',
        tier: 'restricted',
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [33.3, 44.5],
              [33.7, 44.5],
              [33.7, 44.7],
              [33.3, 44.7],
              [33.3, 44.5],
            ],
          ],
        },
      },
    });
    expect(zone.status, JSON.stringify(zone.body)).toBe(201);
    const voyage = await registerVoyage(env.cw, env.broker.url, SHIPMENT, { customer: undefined });
    env.tracker = voyage.tracker;
    send = voyage.send;
    await send(scenario.onLane);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows a compliance user the shipment on the map, its alert arriving live, and acknowledges and resolves it', {
    timeout: 120_000,
  }, async () => {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    const problems = watchProblems(page, /^40[34]$/);
    await signIn(page, `${env.cw.httpUrl}/#map`, await env.cw.token('compliance'), '#dashboard');
    await expect.poll(() => page.locator('#whoami-text').textContent()).toBe('test-compliance · compliance');

    // The shipment: in the list with its status and progress, and as a marker inside the visible map.
    const item = page.getByRole('button', {
      name: new RegExp(`^${SHIPMENT}, AWB 176-12345675: in transit, [\\d.]+ %`),
    });
    await item.waitFor();
    const marker = page.locator(`path.cw-shipment--${SHIPMENT}`);
    await marker.waitFor();
    const [m, map] = [await marker.boundingBox(), await page.locator('#map').boundingBox()];
    expect(
      m &&
        map &&
        m.x >= map.x &&
        m.x + m.width <= map.x + map.width &&
        m.y >= map.y &&
        m.y <= map.y + map.height,
    ).toBe(true);
    // Restricted countries are shaded (China among them).
    expect(await page.locator('path.cw-tier-restricted').count()).toBeGreaterThan(10);
    // …and the custom zone is outlined (off-screen for now: the view fits the shipments).
    await page.locator('path.cw-zone').waitFor({ state: 'attached' });
    await expect.poll(() => page.locator('#live-status').getAttribute('data-mode')).toBe(await streamMode());
    // Nothing about a restricted zone yet (a simulated track may already look too regular: SPOOFING_SUSPECTED).
    await page.locator('#alerts-empty:not([hidden]), li.alert-item').first().waitFor();
    expect(await page.locator('li.alert-item[data-type="RESTRICTED_ZONE_ENTERED"]').count()).toBe(0);

    // Chosen from the keyboard: its planned route, corridor, track and current position are drawn.
    await item.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => item.getAttribute('aria-pressed')).toBe('true');
    await page.locator('path.cw-planned-route').first().waitFor();
    expect(await page.locator('path.cw-corridor').count()).toBeGreaterThan(0);
    expect(await page.locator('path.cw-track').count()).toBeGreaterThan(0);
    expect(await page.locator('path.cw-current-position').count()).toBe(1);
    await expect.poll(() => page.locator('#detail-panel h2').textContent()).toBe(`Shipment ${SHIPMENT}`);

    // The ship turns for Hainan while the page is open: the alert arrives without a reload, announced.
    await send(scenario.diverted);
    const entered = page.locator('li.alert-item[data-type="RESTRICTED_ZONE_ENTERED"]');
    await entered.waitFor({ timeout: 30_000 });
    expect(await entered.locator('.badge.severity-critical').textContent()).toBe('Critical');
    await expect.poll(() => page.locator('#announce-urgent').textContent()).toMatch(/^New critical alert: /);
    const alertId = (await entered.getAttribute('data-alert-id'))!;
    // Newest first.
    const ids = await page
      .locator('li.alert-item')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-alert-id'))));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));

    // Its evidence, the fix inside China, is circled on the map.
    await entered.getByRole('button', { name: /^Show RESTRICTED_ZONE_ENTERED/ }).click();
    await page.locator('path.cw-evidence').first().waitFor();
    expect(await page.locator('#map-caption').textContent()).toContain('triggering fix');

    await entered.getByRole('button', { name: /^Acknowledge RESTRICTED_ZONE_ENTERED/ }).click();
    await expect.poll(() => entered.getAttribute('data-status')).toBe('acknowledged');
    expect(await entered.getByRole('button', { name: /^Acknowledge/ }).count()).toBe(0);
    const acked = await env.cw.api('GET', `/v1/alerts/${alertId}`, { role: 'compliance' });
    expect(acked.body.status).toBe('acknowledged');
    expect(acked.body.audit.at(-1)).toMatchObject({ actor: 'test-compliance', action: 'acknowledged' });
    // The shipment's panel follows.
    await expect
      .poll(() => page.locator('#detail-panel .open-alerts').textContent())
      .toContain('RESTRICTED_ZONE_ENTERED (acknowledged)');

    mkdirSync(ARTIFACTS, { recursive: true });
    await mapSettled(page);
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png` });

    // The evidence bundle, fetched with the token and saved as a file: the signed messages and the digest.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download evidence bundle' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`evidence-${SHIPMENT}.json`);
    await download.saveAs(`${ARTIFACTS}evidence-${SHIPMENT}.json`);
    const bundle = JSON.parse(readFileSync(`${ARTIFACTS}evidence-${SHIPMENT}.json`, 'utf8'));
    expect(bundle.digest.value).toMatch(/\S{20,}/);
    expect(JSON.stringify(bundle)).toContain(`trk-${SHIPMENT}`);
    await expect
      .poll(() => page.locator('#detail-panel .download-status').textContent())
      .toMatch(/^Saved evidence-/);

    // Resolving needs a note: without one nothing is sent.
    await entered.getByRole('button', { name: /^Resolve RESTRICTED_ZONE_ENTERED/ }).click();
    await entered.getByRole('button', { name: 'Resolve alert' }).click();
    await expect.poll(() => entered.locator('.field-error').textContent()).toContain('A note is required');
    expect((await env.cw.api('GET', `/v1/alerts/${alertId}`, { role: 'compliance' })).body.status).toBe(
      'acknowledged',
    );
    await entered
      .getByLabel('Resolution note (required)')
      .fill('Carrier confirmed a port call; licence on file.');
    await entered.getByRole('button', { name: 'Resolve alert' }).click();
    await entered.waitFor({ state: 'detached' }); // the default view shows open and acknowledged alerts only
    const resolved = await env.cw.api('GET', `/v1/alerts/${alertId}`, { role: 'compliance' });
    expect(resolved.body).toMatchObject({
      status: 'resolved',
      resolvedBy: 'test-compliance',
      resolution: 'Carrier confirmed a port call; licence on file.',
    });

    // Every control has an accessible name.
    const unnamed = await page.evaluate(`[...document.querySelectorAll('button, select, textarea, input')]
      .filter((el) => el.offsetParent !== null)
      .filter((el) => !(el.getAttribute('aria-label') || el.textContent.trim() || (el.id && document.querySelector('label[for="' + el.id + '"]'))))
      .map((el) => el.outerHTML)`);
    expect(unnamed).toEqual([]);

    // The token lives in the tab's session storage: a reload stays signed in.
    await page.reload();
    await page.locator('#dashboard').waitFor({ state: 'visible' });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a logistics user shipments but no alert actions or evidence, on a tablet', {
    timeout: 60_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 820, height: 1180 }, hasTouch: true });
    const page = await context.newPage();
    const problems = watchProblems(page, /^40[34]$/);
    await signIn(page, `${env.cw.httpUrl}/#map`, await env.cw.token('logistics'), '#dashboard');
    await page.locator(`path.cw-shipment--${SHIPMENT}`).waitFor();
    await expect.poll(() => page.locator('#alerts-message').textContent()).toContain('for compliance staff');
    await page.getByRole('button', { name: new RegExp(`^${SHIPMENT},`) }).click();
    await page.locator('path.cw-planned-route').first().waitFor();
    await expect.poll(() => page.locator('#detail-panel h2').textContent()).toBe(`Shipment ${SHIPMENT}`);
    expect(await page.getByRole('button', { name: /Acknowledge|Resolve/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /evidence/i }).count()).toBe(0);
    expect(await page.locator('#sites-panel').isHidden()).toBe(true);
    // Tablet layout: nothing wider than the screen, the map a usable size above the panels.
    const layout = (await page.evaluate(`({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      map: document.querySelector('#map').getBoundingClientRect().toJSON(),
      alerts: document.querySelector('#alerts-panel').getBoundingClientRect().toJSON(),
    })`)) as { overflow: number; map: Box; alerts: Box };
    expect(layout.overflow).toBeLessThanOrEqual(0);
    expect(layout.map.height).toBeGreaterThan(400);
    expect(layout.map.width).toBeGreaterThan(700);
    expect(layout.alerts.top).toBeGreaterThanOrEqual(layout.map.bottom);
    await mapSettled(page);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-tablet-logistics.png` });
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows a site's registered radius, its feasible region from the latest RTTs and the chips it attests", {
    timeout: 60_000,
  }, async () => {
    const landmarks = {
      'lm-ams': { lat: 52.3676, lon: 4.9041 },
      'lm-fra': { lat: 50.1109, lon: 8.6821 },
      'lm-lon': { lat: 51.5072, lon: -0.1276 },
    };
    for (const [id, p] of Object.entries(landmarks)) {
      expect((await env.cw.api('POST', '/v1/landmarks', { body: { id, ...p } })).status).toBe(201);
    }
    const at = { lat: 52.3, lon: 4.94 };
    const key = generateDeviceKey();
    const res = await env.cw.api('POST', '/v1/sites', {
      body: { id: 'dc-ams-01', name: 'Amsterdam DC', ...at, radiusKm: 5, publicKeyJwk: key.publicJwk },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const site = new Tracker({
      deviceId: 'dc-ams-01',
      subject: 'sites',
      key,
      mqttUrl: env.broker.url,
      ackKey: env.cw.ackKey,
      mqttPassword: res.body.mqttPassword,
    });
    try {
      await site.waitConnected();
      // RTTs a site really in Amsterdam measures: fibre at ≈ 200 km/ms over 1.5× the great circle, plus 0.3 ms.
      site.sendAttestation({
        location: at,
        chips: ['GPU-0001', 'GPU-0002'],
        landmarks: Object.entries(landmarks).map(([landmarkId, l]) => ({
          landmarkId,
          rttMs: Math.round(((2 * haversineKm(l, at) * 1.5) / 200 + 0.3) * 100) / 100,
        })),
      });
      expect(await site.waitAllAcked(30_000)).toBe(true);
    } finally {
      await site.close();
    }

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const problems = watchProblems(page, /^40[34]$/);
    await signIn(page, `${env.cw.httpUrl}/#map`, await env.cw.token('compliance'), '#dashboard');
    await page.locator('#sites-panel').waitFor({ state: 'visible' });
    await page.locator('path.cw-site--dc-ams-01').waitFor({ state: 'attached' }); // off-screen until chosen
    await page
      .locator('#site-list')
      .getByRole('button', { name: /dc-ams-01/ })
      .click();
    await page.locator('path.cw-feasible-region').waitFor();
    expect(await page.locator('path.cw-site-radius').count()).toBe(1);
    expect(await page.locator('path.cw-landmark-disk').count()).toBe(3);
    await expect.poll(() => page.locator('#site-detail .chips').textContent()).toBe('GPU-0001GPU-0002');
    await mapSettled(page);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-site.png` });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('refuses a token chipwatch did not sign, and says why', async () => {
    const page = await browser.newPage();
    const forged = await mintToken(new TextEncoder().encode('another-secret-another-secret-0123456789'), {
      sub: 'mallory',
      role: 'admin' satisfies Role,
      issuer: 'chipwatch',
      ttlS: 600,
    });
    await page.goto(env.cw.httpUrl);
    await page.getByLabel('API token').fill(forged);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect
      .poll(() => page.locator('#signin-error').textContent())
      .toMatch(/^chipwatch refused this token/);
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.close();
  });

  it('draws tracks and routes across the antimeridian continuously, not back across the whole map', async () => {
    const page = await browser.newPage();
    await page.goto(env.cw.httpUrl);
    const out = await page.evaluate(`(async () => {
      const { unwrapLongitudes, unwrapLines } = await import('/dashboard/js/format.js');
      return {
        track: unwrapLongitudes([[179.5, 30], [-179.5, 31], [-178, 32]], 170),
        route: unwrapLines({ type: 'MultiLineString', coordinates: [[[139.7, 35.6], [180, 40]], [[-180, 40], [-118.2, 33.7]]] }),
        westward: unwrapLongitudes([[-170, 0], [175, 0]], -170),
      };
    })()`);
    expect(out).toEqual({
      track: [
        [179.5, 30],
        [180.5, 31],
        [182, 32],
      ],
      route: [
        [
          [139.7, 35.6],
          [180, 40],
        ],
        [
          [180, 40],
          [241.8, 33.7],
        ],
      ],
      westward: [
        [-170, 0],
        [-185, 0],
      ],
    });
    await page.close();
  });

  it('parses Server-Sent Events split anywhere, as the live feed receives them', async () => {
    const page = await browser.newPage();
    await page.goto(env.cw.httpUrl);
    const events = await page.evaluate(`(async () => {
      const { createSseParser } = await import('/dashboard/js/sse.js');
      const out = [];
      const p = createSseParser((e) => out.push(e));
      const text = '\\uFEFF: keep-alive\\r\\nid: 7\\r\\nevent: alert\\r\\ndata: {"id":"1",\\r\\ndata: "type":"TAMPER"}\\r\\n\\r\\n' +
        'data: no id\\n\\nid: 8\\nevent: alert\\ndata:{"id":"2"}\\n\\n';
      // one character at a time: every split point, including between \\r and \\n
      for (const ch of text) p.push(ch);
      return out;
    })()`);
    expect(events).toEqual([
      { id: '7', event: 'alert', data: '{"id":"1",\n"type":"TAMPER"}' },
      { id: '7', event: 'message', data: 'no id' },
      { id: '8', event: 'alert', data: '{"id":"2"}' },
    ]);
    await page.close();
  });
});
