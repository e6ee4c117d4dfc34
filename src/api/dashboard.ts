// The compliance dashboard: chipwatch serves its static files itself (public/, Leaflet from node_modules, Natural
// Earth country outlines converted once to GeoJSON), so it works offline; and GET /v1/policy, the country tiers the
// map shades.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { build } from 'esbuild';
import type { Position } from 'geojson';
import { Hono, type MiddlewareHandler } from 'hono';
import { loadCountryZones } from '../geo/countries.ts';
import type { GeoRuntime } from '../geo/runtime.ts';
import { createRouter, defineRoute, json, z } from './openapi.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));
/** Alerts in plain words, the one source the server (e-mail, report) and the browser share (compiled: .js). */
const explainSource = () =>
  ['explain.ts', 'explain.js']
    .map((f) => fileURLToPath(new URL(`../alerts/${f}`, import.meta.url)))
    .find((f) => existsSync(f)) ?? fileURLToPath(new URL('../alerts/explain.ts', import.meta.url));
const require = createRequire(import.meta.url);
const gzipAsync = promisify(gzip);

/**
 * Strict: scripts, styles and fetches from this origin only, nothing inline. Leaflet positions its layers through
 * the CSSOM (element.style), which style-src does not restrict; `data:` images are Leaflet's CSS cursors.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.geojson': 'application/geo+json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

interface Asset {
  type: string;
  body: Buffer;
  /** Only kept when it saves something: PNGs are compressed already. */
  gzip?: Buffer;
  etag: string;
}

/** Compressed on libuv's thread pool: the event loop (which also runs ingest) only waits for the result. */
async function asset(path: string, body: Buffer): Promise<Asset> {
  const type = TYPES[extname(path)] ?? 'application/octet-stream';
  const gz = type === 'image/png' ? undefined : await gzipAsync(body, { level: 9 });
  return {
    type,
    body,
    ...(gz && gz.length < body.length * 0.9 ? { gzip: gz } : {}),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) {
    throw new Error(
      `dashboard files missing: ${dir} does not exist (a container image must copy public/ as well)`,
    );
  }
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Natural Earth 50m country outlines as GeoJSON, rings already cut at ±180 (drawn uncut, Russia and Fiji smear
 * across the whole map), coordinates rounded to ~100 m: 1.7 MB, 0.56 MB gzipped. `id` is the zone id the policy
 * tiers use (ISO alpha-2, or the policy's key for land without a code).
 */
export function countriesGeoJson(geo: GeoRuntime) {
  return {
    type: 'FeatureCollection',
    features: loadCountryZones(geo.policy, '50m').map(({ zone, geometry }) => ({
      type: 'Feature',
      id: zone.id,
      properties: { name: zone.name },
      geometry: {
        type: geometry.type,
        coordinates:
          geometry.type === 'Polygon'
            ? geometry.coordinates.map(roundRing)
            : geometry.coordinates.map((p) => p.map(roundRing)),
      },
    })),
  };
}
const roundRing = (ring: Position[]) => ring.map(([lon, lat]) => [round(lon!), round(lat!)]);

/**
 * Every file the dashboard may load, by URL path. Built on the first request and kept (≈ 0.25 s of the event
 * loop for the outlines, the gzip on the thread pool; processes that never serve the dashboard do not pay it): an
 * allow-list, so no request path ever reaches the file system.
 */
async function loadAssets(geo: GeoRuntime): Promise<Map<string, Asset>> {
  const files: [string, string][] = [];
  for (const file of filesUnder(PUBLIC_DIR)) {
    const urlPath = relative(PUBLIC_DIR, file).split(sep).join('/');
    files.push([urlPath === 'index.html' ? '/' : `/dashboard/${urlPath}`, file]);
  }
  const leafletDir = dirname(require.resolve('leaflet/dist/leaflet.css'));
  for (const file of filesUnder(leafletDir)) {
    if (file.endsWith('.map')) continue;
    files.push([`/dashboard/vendor/leaflet/${relative(leafletDir, file).split(sep).join('/')}`, file]);
  }
  const assets = new Map<string, Asset>();
  for (const [urlPath, file] of files) assets.set(urlPath, await asset(file, readFileSync(file)));
  // Type annotations stripped and its one helper module bundled in, nothing else changed (explain.ts is pure).
  const explain = await build({
    entryPoints: [explainSource()],
    bundle: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  assets.set(
    '/dashboard/js/explain.js',
    await asset('explain.js', Buffer.from(explain.outputFiles[0]!.contents)),
  );
  assets.set(
    '/dashboard/countries.geojson',
    await asset('countries.geojson', Buffer.from(JSON.stringify(countriesGeoJson(geo)))),
  );
  return assets;
}

/** GET / and GET /dashboard/*: the dashboard's files, public (the API calls they make need a token). */
export function dashboardRouter(geo: GeoRuntime) {
  let assets: Promise<Map<string, Asset>> | undefined;
  const r = new Hono();
  const serve: MiddlewareHandler = async (c, next) => {
    const path = c.req.path === '/index.html' ? '/' : c.req.path;
    // Concurrent first requests share one build; a failed build is retried by the next request.
    assets ??= loadAssets(geo).catch((e) => {
      assets = undefined;
      throw e;
    });
    const a = (await assets).get(path);
    if (!a) return next();
    const headers: Record<string, string> = {
      'Content-Type': a.type,
      // Revalidate every time: after an upgrade the browser must not mix old and new modules.
      'Cache-Control': 'no-cache',
      ETag: a.etag,
      Vary: 'Accept-Encoding',
      'Content-Security-Policy': DASHBOARD_CSP,
    };
    if (c.req.header('if-none-match') === a.etag) return c.body(null, 304, headers);
    const gzip = a.gzip && /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
    if (gzip) headers['Content-Encoding'] = 'gzip';
    return c.body(new Uint8Array(gzip ? a.gzip! : a.body), 200, headers);
  };
  r.get('/', serve);
  r.get('/index.html', serve);
  r.get('/dashboard/*', serve);
  return r;
}

/** The country tiers of the policy in force, for the map: zone id → tier, for every zone with a tier. */
export function policyView(geo: GeoRuntime) {
  const { policy } = geo;
  const tiers: Record<string, string> = {};
  // Land without an ISO code (Kosovo, Northern Cyprus…) is keyed like its zone id.
  for (const e of policy.entitiesByName.values()) if (e.tier !== 'none') tiers[e.key] = e.tier;
  for (const code of [...policy.watch, ...policy.licenseRequired, ...policy.restricted]) {
    tiers[code] = policy.tierOf(code);
  }
  return {
    checkedAt: policy.checkedAt,
    checkedAgainst: policy.checkedAgainst,
    unverified: policy.unverified,
    tiers,
  };
}

const policySchema = z
  .object({
    checkedAt: z.string().openapi({ description: 'when the lists were checked against 15 CFR 740 Supp. 1' }),
    checkedAgainst: z.unknown(),
    unverified: z.unknown(),
    tiers: z
      .record(z.string(), z.enum(['restricted', 'licenseRequired', 'watch']))
      .openapi({ description: 'ISO 3166-1 alpha-2 (or zone key) → tier', example: { CN: 'restricted' } }),
  })
  .openapi('Policy');

/** GET /v1/policy (logistics, compliance): the country tiers the checks use, read-only. */
export function policyRouter(geo: GeoRuntime) {
  let view: ReturnType<typeof policyView> | undefined;
  const r = createRouter();
  r.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      roles: ['logistics', 'compliance'],
      summary: 'The export-control policy in force: country tiers',
      responses: { 200: json(policySchema, 'the policy') },
    }),
    (c) => {
      view ??= policyView(geo);
      return c.json(view as z.infer<typeof policySchema>, 200);
    },
  );
  return r;
}
