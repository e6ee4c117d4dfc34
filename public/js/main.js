// The dashboard's wiring: sign-in, loading, live alerts, selection. Drawing lives in map.js, lists in alerts.js,
// shipments.js and sites.js; pure helpers in format.js.

import { createAlertFeed } from './alerts.js';
import { createApi } from './api.js';
import { $, announce, h } from './dom.js';
import { capabilities, evidencePoints, formatTime, tokenClaims } from './format.js';
import { createLicences, createRegisterForm } from './forms.js';
import { loadBaseMap, loadSites, loadZones, renderLegend } from './layers.js';
import { createMap } from './map.js';
import { createOverview } from './overview.js';
import { renderShipmentDetail, renderShipmentList } from './shipments.js';
import { followAlerts } from './sse.js';
import { createTimeline } from './timeline.js';

const TOKEN_KEY = 'chipwatch.token';
const REFRESH_MS = 15_000;
const ROLES = ['admin', 'logistics', 'compliance'];

const state = {
  token: null,
  caps: capabilities(null),
  map: null,
  shipments: [],
  selectedId: null,
  stopFollow: null,
  refreshTimer: null,
};

const api = createApi(
  () => state.token,
  () => signOut('chipwatch refused the token (expired or revoked?): sign in again.'),
);

const feed = createAlertFeed($('#alert-list'), $('#alerts-empty'), {
  get canAct() {
    return state.caps.actOnAlerts;
  },
  onShow: (id) => showAlert(id),
  onAck: acknowledge,
  onResolve: resolve,
  onNew: (a) => {
    const li = document.querySelector(`[data-alert-id="${CSS.escape(a.id)}"]`);
    li?.classList.add('is-new');
    setTimeout(() => li?.classList.remove('is-new'), 3000);
    announce(`New ${a.severity} alert: ${a.type}${a.shipmentId ? ` on shipment ${a.shipmentId}` : ''}.`, {
      urgent: a.severity === 'critical',
    });
    if (a.shipmentId && a.shipmentId === state.selectedId) refreshSelected();
    scheduleShipmentRefresh();
  },
});

// ——— sign-in ———

/** Checks the token's claims locally, then with chipwatch (a call every role may make). */
async function signIn(token) {
  let claims;
  try {
    claims = tokenClaims(token);
  } catch {
    throw new Error('This is not an API token (a JWT has three parts separated by dots).');
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) {
    throw new Error(
      `This token expired at ${formatTime(new Date(claims.exp * 1000).toISOString())}; mint a new one.`,
    );
  }
  if (!ROLES.includes(claims.role))
    throw new Error('This token has no chipwatch role (admin, logistics or compliance).');
  state.token = token;
  try {
    // One cheap call every role may make: the map view loads the shipments when it is first shown.
    await api.get('/v1/shipments?limit=1');
  } catch (e) {
    state.token = null;
    throw new Error(e.status === 401 ? `chipwatch refused this token: ${e.message}` : e.message);
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.caps = capabilities(claims.role);
  $('#whoami-text').textContent = `${claims.sub ?? 'unknown'} · ${claims.role}`;
  $('#whoami').hidden = false;
  $('#signin-view').hidden = true;
  $('#views-nav').hidden = false;
  $('#nav-register').hidden = !(claims.role === 'logistics' || claims.role === 'admin');
  api
    .get('/v1/licences?limit=1')
    .then(() => {
      $('#nav-licences').hidden = false;
    })
    .catch(() => {}); // an older server has no licences: the view stays hidden
  await route();
}

// ——— views ———

const VIEWS = ['overview', 'map', 'shipment', 'register', 'licences'];
const VIEW_ELEMENT = {
  overview: '#overview-view',
  map: '#dashboard',
  shipment: '#timeline-view',
  register: '#register-view',
  licences: '#licences-view',
};
let mapStarted = false;
let overviewTimer;
const overview = createOverview(
  {
    kpis: $('#overview-kpis'),
    form: $('#overview-filter'),
    rows: $('#overview-rows'),
    status: $('#overview-status'),
    prev: $('#overview-prev'),
    next: $('#overview-next'),
    alertAges: $('#overview-alert-ages'),
    silent: $('#overview-silent'),
    events: $('#overview-events'),
    eventsBox: $('#overview-events-box'),
  },
  {
    api,
    get canReadAlerts() {
      return state.caps.readAlerts;
    },
    onOpen: (id) => {
      location.hash = `#shipment/${encodeURIComponent(id)}`;
    },
  },
);
const timeline = createTimeline({
  api,
  caps: () => state.caps,
  loadBase: (map) => loadBaseMap(api, map),
  onAlertChanged: () => scheduleShipmentRefresh(),
});
const registerForm = createRegisterForm({ api });
const licences = createLicences({ api, caps: () => state.caps });

/** Shows the view the address names: #overview (default), #map, #shipment/{id}, #register, #licences. */
async function route() {
  if (!state.token) return;
  const [name, arg] = location.hash.replace(/^#/, '').split('/');
  const view = VIEWS.includes(name) ? name : 'overview';
  for (const [v, sel] of Object.entries(VIEW_ELEMENT)) $(sel).hidden = v !== view;
  for (const a of document.querySelectorAll('#views-nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clearInterval(overviewTimer);
  if (view !== 'shipment') timeline.hide();
  if (view === 'overview') {
    await overview.refresh();
    overviewTimer = setInterval(() => document.hidden || overview.refresh({ quiet: true }), REFRESH_MS);
  } else if (view === 'map') {
    if (!mapStarted) {
      mapStarted = true;
      await start((await api.all('/v1/shipments?limit=500&sort=newest')).items);
    } else state.map.invalidate();
  } else if (view === 'shipment' && arg) {
    try {
      await timeline.open(decodeURIComponent(arg));
      $('#timeline-heading').focus();
    } catch (e) {
      $('#timeline-status').textContent =
        `Shipment ${decodeURIComponent(arg)} could not be loaded: ${e.message}`;
    }
    return;
  } else if (view === 'register') {
    registerForm.open();
  } else if (view === 'licences') {
    await licences.open();
  }
  document.querySelector(`${VIEW_ELEMENT[view]} h2`)?.focus({ preventScroll: true });
}
window.addEventListener('hashchange', () => route());

function signOut(message = '') {
  state.stopFollow?.();
  state.stopFollow = null;
  clearInterval(state.refreshTimer);
  state.token = null;
  state.selectedId = null;
  sessionStorage.removeItem(TOKEN_KEY);
  feed.clear();
  state.map?.clear();
  $('#detail-panel').replaceChildren(
    h('h2', { id: 'detail-heading', tabindex: '-1' }, 'Shipment'),
    h(
      'p',
      { class: 'muted' },
      'Choose a shipment in the list or on the map to see its route, corridor and track.',
    ),
  );
  $('#site-detail').replaceChildren();
  $('#map-caption').textContent = '';
  for (const sel of Object.values(VIEW_ELEMENT)) $(sel).hidden = true;
  mapStarted = false;
  $('#views-nav').hidden = true;
  clearInterval(overviewTimer);
  $('#whoami').hidden = true;
  $('#live-status').hidden = true;
  $('#signin-view').hidden = false;
  $('#signin-error').textContent = message;
  $('#token-input').value = '';
  $('#token-input').focus();
}

$('#signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const input = $('#token-input');
  const token = input.value.trim().replace(/^Bearer\s+/i, '');
  const error = $('#signin-error');
  error.textContent = '';
  input.removeAttribute('aria-invalid');
  if (!token) {
    error.textContent = 'Paste an API token first.';
    input.setAttribute('aria-invalid', 'true');
    input.focus();
    return;
  }
  try {
    await signIn(token);
  } catch (err) {
    error.textContent = err.message;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
});
$('#sign-out').addEventListener('click', () => signOut());

// ——— loading ———

async function start(shipments) {
  state.map ??= createMap($('#map'));
  state.map.invalidate();
  renderLegend(state.caps);
  setShipments(shipments);
  fitToShipments();
  // The map's base layers and the side panels load independently: one failing leaves the others working.
  loadBaseMap(api, state.map);
  loadZones(api, state.map);
  startAlerts();
  loadSites(api, state.map, state.caps);
  clearInterval(state.refreshTimer);
  state.refreshTimer = setInterval(() => {
    if (document.hidden || $('#dashboard').hidden) return;
    refreshShipments();
    if (state.selectedId) refreshSelected();
  }, REFRESH_MS);
}

// ——— shipments ———

function setShipments(list) {
  state.shipments = list;
  renderShipmentList($('#shipment-list'), $('#shipments-empty'), list, state.selectedId, (id) =>
    selectShipment(id, { fit: true }),
  );
  state.map.setShipments(list, state.selectedId, (id) => selectShipment(id, { fit: true, focusPanel: true }));
}

function fitToShipments() {
  const points = state.shipments
    .filter((s) => s.lastPosition)
    .map((s) => [s.lastPosition.lat, s.lastPosition.lon]);
  if (points.length > 0) state.map.leaflet.fitBounds(points, { padding: [40, 40], maxZoom: 5 });
}

async function refreshShipments() {
  try {
    setShipments((await api.all('/v1/shipments?limit=500&sort=newest')).items);
  } catch {
    // Kept as shown; the next refresh tries again.
  }
}

let shipmentRefresh;
function scheduleShipmentRefresh() {
  clearTimeout(shipmentRefresh);
  shipmentRefresh = setTimeout(refreshShipments, 500);
}

async function selectShipment(id, { fit = false, focusPanel = false } = {}) {
  state.selectedId = id;
  setShipments(state.shipments);
  await refreshSelected({ fit });
  if (focusPanel) $('#detail-heading').focus();
}

async function refreshSelected({ fit = false } = {}) {
  const id = state.selectedId;
  if (!id) return;
  try {
    const [detail, track] = await Promise.all([
      api.get(`/v1/shipments/${encodeURIComponent(id)}`),
      api.get(`/v1/shipments/${encodeURIComponent(id)}/track`),
    ]);
    if (state.selectedId !== id) return; // another shipment was chosen meanwhile
    renderShipmentDetail($('#detail-panel'), detail, {
      canExport: state.caps.evidence,
      onDownload: (status) => downloadEvidence(id, status),
      onReport: (status) => downloadReport(id, status),
      onShowAlert: (alertId) => showAlert(alertId),
      onZoom: () => refreshSelected({ fit: true }),
      onTimeline: () => {
        location.hash = `#shipment/${encodeURIComponent(id)}`;
      },
    });
    state.map.showTrack(track, { fit, onAlert: (alertId) => showAlert(alertId) });
  } catch (e) {
    $('#map-caption').textContent = `Shipment ${id} could not be loaded: ${e.message}`;
  }
}

async function downloadReport(id, status) {
  status.textContent = 'Preparing the incident report…';
  try {
    const { name, bytes } = await api.download(
      `/v1/shipments/${encodeURIComponent(id)}/report`,
      `incident-report-${id}.html`,
    );
    status.textContent = `Saved ${name} (${Math.max(1, Math.round(bytes / 1024))} KB).`;
  } catch (e) {
    status.textContent = `The incident report could not be made: ${e.message}`;
  }
}

async function downloadEvidence(id, status) {
  status.textContent = 'Preparing the evidence bundle…';
  try {
    const { name, bytes } = await api.download(
      `/v1/shipments/${encodeURIComponent(id)}/evidence`,
      `chipwatch-evidence-${id}.json`,
    );
    status.textContent = `Saved ${name} (${Math.max(1, Math.round(bytes / 1024))} KB).`;
  } catch (e) {
    status.textContent = e.routeMissing
      ? 'This chipwatch server does not export evidence bundles yet.'
      : `The evidence bundle could not be downloaded: ${e.message}`;
  }
}

// ——— alerts ———

const MODE_TEXT = {
  stream: 'Alerts live (stream)',
  polling: 'Alerts live (checked every 4 s)',
  reconnecting: 'Alert stream lost: reconnecting…',
  forbidden: 'Alerts are not available to your role',
};

function setMode(mode) {
  const el = $('#live-status');
  el.hidden = false;
  el.dataset.mode = mode;
  el.textContent = MODE_TEXT[mode] ?? mode;
  if (mode === 'forbidden') alertsUnavailable();
}

function alertsUnavailable() {
  state.stopFollow?.();
  state.stopFollow = null;
  $('#alert-filter').disabled = true;
  $('#alerts-empty').hidden = true;
  const message = $('#alerts-message');
  message.hidden = false;
  message.textContent =
    'Alerts are for compliance staff: your role cannot read them. Alert points on a shipment’s track are still shown on the map.';
}

function startAlerts() {
  $('#alert-filter').disabled = false;
  $('#alerts-message').hidden = true;
  if (!state.caps.readAlerts) {
    setMode('forbidden');
    return;
  }
  let first = true;
  state.stopFollow = followAlerts({
    token: state.token,
    onMode: setMode,
    onUnauthorized: () => signOut('chipwatch refused the token (expired or revoked?): sign in again.'),
    // The first list is history, not news: it is shown without announcing each alert.
    onPoll: (items) => {
      feed.upsert(items, { live: !first });
      first = false;
    },
    onAlert: async (data) => {
      const a = data.alert ?? data;
      if (a.id !== undefined && a.type && a.status) {
        feed.upsert([{ ...a, id: String(a.id) }]);
      } else if (a.id !== undefined) {
        feed.upsert([await api.get(`/v1/alerts/${encodeURIComponent(a.id)}`)]);
      }
    },
  });
}

$('#alert-filter').addEventListener('change', (e) => feed.setFilter(e.target.value));

async function currentAlert(id) {
  return feed.get(id) ?? api.get(`/v1/alerts/${encodeURIComponent(id)}`);
}

async function showAlert(id) {
  const caption = $('#map-caption');
  let alert;
  try {
    alert = await currentAlert(id);
  } catch (e) {
    caption.textContent =
      e.status === 403 ? 'Alert details are for compliance staff.' : `Alert ${id}: ${e.message}`;
    return;
  }
  if (alert.shipmentId && alert.shipmentId !== state.selectedId) await selectShipment(alert.shipmentId);
  const points = evidencePoints(alert.details);
  const shown = state.map.showEvidence(alert, points);
  caption.textContent = shown
    ? `${alert.type}: evidence circled on the map — ${points
        .map((p) => `${p.label}${p.ts ? ` at ${formatTime(p.ts)}` : ''}`)
        .join('; ')}.`
    : `${alert.type} names no position to show.`;
}

async function acknowledge(alert) {
  const status = $('#action-status');
  try {
    const updated = await api.post(`/v1/alerts/${encodeURIComponent(alert.id)}/ack`, {});
    feed.upsert([updated], { live: false });
    if (alert.shipmentId && alert.shipmentId === state.selectedId) refreshSelected();
    status.textContent = `Acknowledged ${alert.type} (alert ${alert.id}).`;
    announce(status.textContent);
  } catch (e) {
    status.textContent = `Could not acknowledge alert ${alert.id}: ${e.message}`;
    announce(status.textContent, { urgent: true });
    feed.upsert([await api.get(`/v1/alerts/${encodeURIComponent(alert.id)}`)], { live: false, force: true });
  }
}

async function resolve(alert, note) {
  const updated = await api.post(`/v1/alerts/${encodeURIComponent(alert.id)}/resolve`, { note });
  const status = $('#action-status');
  status.textContent = `Resolved ${alert.type} (alert ${alert.id}).`;
  announce(status.textContent);
  const hadFocus = document
    .querySelector(`[data-alert-id="${CSS.escape(alert.id)}"]`)
    ?.contains(document.activeElement);
  feed.upsert([updated], { live: false });
  if (alert.shipmentId && alert.shipmentId === state.selectedId) refreshSelected();
  if (hadFocus && !document.querySelector(`[data-alert-id="${CSS.escape(alert.id)}"]`)?.isConnected) {
    $('#alerts-heading').focus();
  }
}

// ——— start ———

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) {
  signIn(saved).catch((e) => signOut(e.message));
} else {
  signOut();
}
