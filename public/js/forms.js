// Forms: register a shipment (logistics, admin) and grant or revoke licences (compliance, admin), each checked
// against the API's own schema (schema.js) before it is sent, with every problem listed, linked to its field and
// marked on it; the server's answer is shown the same way.
import * as L from '/dashboard/vendor/leaflet/leaflet-src.esm.js';
import { $, announce, h } from './dom.js';
import { formatTime } from './format.js';
import { apiSchemas, pathOfMessage, validate } from './schema.js';

const num = (v) => (v === '' || v === null ? undefined : Number(v));
const text = (v) => {
  const s = String(v ?? '').trim();
  return s === '' ? undefined : s;
};
const lines = (v) =>
  String(v ?? '')
    .split(/[\n,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
const prune = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Lists the problems above the form (each a button to its field) and marks the fields. */
function showProblems(form, summary, problems) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  summary.replaceChildren();
  summary.hidden = problems.length === 0;
  if (problems.length === 0) return;
  const field = (path) => {
    for (let p = path; p; p = p.replace(/(\.[^.]*|\[\d+\])$/, '')) {
      const el = form.querySelector(`[data-path="${CSS.escape(p)}"]`);
      if (el) return el;
      if (!/[.[]/.test(p)) break;
    }
    return null;
  };
  summary.append(
    h('h3', { tabindex: '-1' }, `${problems.length} problem(s) to fix`),
    h(
      'ul',
      {},
      problems.map((p) => {
        const el = field(p.path);
        el?.setAttribute('aria-invalid', 'true');
        const label = el?.labels?.[0]?.textContent ?? p.path;
        return h(
          'li',
          {},
          el
            ? h(
                'button',
                { type: 'button', class: 'link-button', onclick: () => el.focus() },
                `${label}: ${p.message}`,
              )
            : `${p.path}: ${p.message}`,
        );
      }),
    ),
  );
  summary.querySelector('h3').focus();
}

async function submitChecked({ form, summary, schemaName, body, send }) {
  const schemas = await apiSchemas();
  const problems = schemaName && schemas[schemaName] ? validate(schemas[schemaName], body, schemas) : [];
  showProblems(form, summary, problems);
  if (problems.length > 0) return null;
  try {
    return await send(body);
  } catch (e) {
    showProblems(form, summary, [
      { path: pathOfMessage(e.message) ?? '', message: e.message.replace(/^[^:]*:\s*/, '') || e.message },
    ]);
    return null;
  }
}

/** The shipment registration form. opts: { api, onRegistered(id) } */
export function createRegisterForm(opts) {
  const form = $('#register-form');
  const summary = $('#register-errors');
  const status = $('#register-status');
  let map;
  let drawn;

  const routeText = form.elements.routeCoordinates;
  function drawRoute() {
    const pts = lines(routeText.value.replace(/,/g, ' ').replace(/\n/g, ','))
      .map((l) => l.split(/\s+/).map(Number))
      .filter((p) => p.length === 2 && p.every(Number.isFinite));
    drawn?.setLatLngs(pts.map(([lon, lat]) => [lat, lon]));
    return pts;
  }
  function ensureMap() {
    if (map) return;
    map = L.map($('#register-map'), { center: [25, 60], zoom: 1, attributionControl: false });
    fetch('/dashboard/countries.geojson')
      .then((r) => r.json())
      .then((c) =>
        L.geoJSON(c, {
          interactive: false,
          style: { color: '#8a94a0', weight: 0.5, fillColor: '#f4f1ea', fillOpacity: 1 },
        }).addTo(map),
      );
    drawn = L.polyline([], { color: '#1e3a8a', weight: 3, className: 'cw-drawn-route' }).addTo(map);
    map.on('click', (e) => {
      routeText.value =
        `${routeText.value.trim()}\n${e.latlng.lng.toFixed(3)} ${e.latlng.lat.toFixed(3)}`.trim();
      drawRoute();
    });
  }
  const syncKinds = () => {
    const site = form.elements.destKind.value === 'site';
    $('#dest-site-fields').hidden = !site;
    $('#dest-place-fields').hidden = site;
    const drawnRoute = form.elements.routeKind.value === 'drawn';
    $('#route-draw-fields').hidden = !drawnRoute;
    if (drawnRoute) {
      ensureMap();
      setTimeout(() => map.invalidateSize(), 0);
    }
  };
  form.addEventListener('change', syncKinds);
  routeText.addEventListener('input', drawRoute);
  $('#route-clear').addEventListener('click', () => {
    routeText.value = '';
    drawRoute();
  });

  function body() {
    const f = Object.fromEntries(new FormData(form));
    const destination =
      f.destKind === 'site'
        ? { siteId: text(f.destSiteId) ?? '' }
        : prune({
            name: text(f.destName),
            lat: num(f.destLat),
            lon: num(f.destLon),
            radiusKm: num(f.destRadiusKm),
          });
    const route = f.routeKind === 'drawn' ? { type: 'LineString', coordinates: drawRoute() } : undefined;
    return prune({
      id: text(f.id) ?? '',
      reference: text(f.reference),
      customer: text(f.customer),
      deviceId: text(f.deviceId) ?? '',
      mode: f.mode,
      origin: prune({ name: text(f.originName), lat: num(f.originLat), lon: num(f.originLon) }),
      destination,
      route,
      corridorKm: num(f.corridorKm),
      reportIntervalS: num(f.reportIntervalS),
      chips: lines(f.chips),
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = '';
    const created = await submitChecked({
      form,
      summary,
      schemaName: 'ShipmentRegistration',
      body: body(),
      send: (b) => opts.api.post('/v1/shipments', b),
    });
    if (!created) return;
    status.replaceChildren(
      `Registered shipment ${created.id} (${Math.round(created.routeLengthKm)} km route). `,
      h('a', { href: `#shipment/${encodeURIComponent(created.id)}` }, 'Open its timeline'),
    );
    announce(`Registered shipment ${created.id}.`);
    form.reset();
    syncKinds();
  });
  return { open: syncKinds };
}

/** Licences: the list, grant and revoke (compliance, admin); read-only for logistics. opts: { api, caps } */
export function createLicences(opts) {
  const form = $('#licence-form');
  const summary = $('#licence-errors');
  const list = $('#licence-list');

  async function load() {
    try {
      const page = await opts.api.get('/v1/licences?limit=200');
      list.replaceChildren(
        ...page.items.map((l) =>
          h(
            'tr',
            { 'data-licence-id': l.id },
            h('th', { scope: 'row' }, l.id, h('span', { class: 'muted cell-sub' }, l.number)),
            h('td', {}, l.countries.join(', ')),
            h('td', {}, l.items.join(', ') || '—'),
            h('td', {}, l.endUser),
            h('td', {}, `${formatTime(l.validFrom)} – ${formatTime(l.validTo)}`),
            h('td', {}, h('span', { class: `badge licence-${l.status}` }, l.status)),
            h('td', {}, opts.caps().actOnAlerts && l.status !== 'revoked' ? revokeForm(l) : null),
          ),
        ),
      );
      $('#licences-empty').hidden = page.items.length > 0;
    } catch (e) {
      $('#licences-empty').hidden = false;
      $('#licences-empty').textContent = `Licences could not be loaded: ${e.message}`;
    }
  }

  function revokeForm(l) {
    const id = `revoke-${l.id}`;
    const input = h('input', { id, name: 'reason', 'data-path': 'reason', required: true, maxlength: 2000 });
    const problems = h('div', { class: 'form-errors', role: 'alert', hidden: true });
    const f = h(
      'form',
      { class: 'inline-form', novalidate: true },
      h('label', { for: id }, `Reason to revoke ${l.id}`),
      input,
      h('button', { type: 'submit', class: 'btn' }, 'Revoke'),
      problems,
    );
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      const done = await submitChecked({
        form: f,
        summary: problems,
        schemaName: 'LicenceRevocation',
        body: { reason: input.value.trim() },
        send: (b) => opts.api.post(`/v1/licences/${encodeURIComponent(l.id)}/revoke`, b),
      });
      if (done) {
        announce(`Licence ${l.id} revoked.`);
        load();
      }
    });
    return f;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(form));
    const day = (v) => (text(v) ? `${v}T00:00:00Z` : '');
    const granted = await submitChecked({
      form,
      summary,
      schemaName: 'LicenceGrant',
      body: prune({
        id: text(f.id) ?? '',
        number: text(f.number) ?? '',
        countries: lines(f.countries).map((c) => c.toUpperCase()),
        items: lines(f.items),
        endUser: text(f.endUser) ?? '',
        validFrom: day(f.validFrom),
        validTo: day(f.validTo),
        notes: text(f.notes),
      }),
      send: (b) => opts.api.post('/v1/licences', b),
    });
    if (granted) {
      announce(`Licence ${granted.id} granted.`);
      $('#licence-status').textContent = `Granted licence ${granted.id}.`;
      form.reset();
      load();
    }
  });

  return {
    open() {
      form.hidden = !opts.caps().actOnAlerts;
      return load();
    },
  };
}
