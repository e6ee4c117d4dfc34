// The API described: /openapi.json (OpenAPI 3.1, generated from the routes' zod schemas) and /docs, a Swagger UI
// served from the installed swagger-ui-dist package, so the reference works without any network access.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { errorBody } from './errors.ts';

const SWAGGER_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/** The only files /docs/assets serves: a fixed list, never a path from the request. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

// The initializer is a file rather than an inline script so the page's CSP can forbid inline scripts.
const INIT_JS = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // A pasted token must not outlive the tab (the dashboard keeps its token in sessionStorage for the same reason).
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
};
`;

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>chipwatch API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/assets/init.js"></script>
  </body>
</html>
`;

// Swagger UI sets inline styles and shows data: images; nothing else leaves this origin.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

const cache = new Map<string, Uint8Array<ArrayBuffer>>();
function asset(name: string): Uint8Array<ArrayBuffer> {
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(join(SWAGGER_DIR, name)));
    cache.set(name, bytes);
  }
  return bytes;
}

/** Public routes of the description; `document` builds the OpenAPI document (called once, then kept). */
export function docsRouter(document: () => unknown) {
  const r = new Hono();
  let doc: unknown;
  r.get('/openapi.json', (c) => {
    doc ??= document();
    return c.json(doc);
  });
  r.get('/docs', (c) => c.html(PAGE, 200, { 'Content-Security-Policy': CSP }));
  r.get('/docs/assets/:file', (c) => {
    const file = c.req.param('file');
    const headers = { 'Cache-Control': 'public, max-age=86400' };
    if (file === 'init.js') {
      return c.body(INIT_JS, 200, { ...headers, 'Content-Type': 'text/javascript; charset=utf-8' });
    }
    const type = ASSETS[file];
    if (!type) return c.json(errorBody('NOT_FOUND', `no asset ${file}; see /docs`), 404);
    return c.body(asset(file), 200, { ...headers, 'Content-Type': type });
  });
  return r;
}
