// The overview: the fleet at a glance, counted by the server (GET /v1/overview), and one page of shipments at a time
// (GET /v1/overview/shipments), most at risk first, searched and filtered. Nothing here holds more than a page, so
// thousands of shipments and tens of thousands of alerts cost the browser no more than fifty.
import { h } from './dom.js';
import { explainAlert } from './explain.js';
import { formatAgo, formatTime, SEVERITY_LABEL, STATUS_LABEL } from './format.js';

const PAGE = 50;
const RISK_LABEL = { critical: 'Critical', warning: 'Warning', info: 'Info', none: 'On plan' };
const AGE_LABEL = { '1h': '< 1 h', '24h': '< 24 h', '7d': '< 7 days', older: 'older' };
const nf = new Intl.NumberFormat('en-GB');

/** els: the overview's elements by role; opts: { api, canReadAlerts, onOpen(shipmentId) }. */
export function createOverview(els, opts) {
  let offset = 0;
  let filters = {};
  let seq = 0;

  function card(title, value, detail, cls = '') {
    return h(
      'div',
      { class: `kpi ${cls}` },
      h('p', { class: 'kpi-value' }, nf.format(value)),
      h('p', { class: 'kpi-title' }, title),
      detail ? h('p', { class: 'kpi-detail muted' }, detail) : null,
    );
  }

  function renderCounts(o) {
    const byStatus = o.shipments.byStatus;
    const atRisk = (sev) =>
      o.shipments.byRisk
        .filter((r) => r.risk === sev && r.status !== 'cancelled')
        .reduce((n, r) => n + r.n, 0);
    const total = Object.values(byStatus).reduce((n, x) => n + x, 0);
    const open = (sev) => o.openAlerts.filter((a) => a.severity === sev).reduce((n, a) => n + a.n, 0);
    els.kpis.replaceChildren(
      card(
        'shipments',
        total,
        `${nf.format(byStatus.in_transit ?? 0)} in transit, ${nf.format(byStatus.planned ?? 0)} planned, ${nf.format((byStatus.arrived ?? 0) + (byStatus.installed ?? 0))} arrived`,
      ),
      card('at critical risk', atRisk(3), 'a critical alert not yet resolved', 'kpi-critical'),
      card('with warnings', atRisk(2), 'a warning not yet resolved', 'kpi-warning'),
      card('on plan', total - atRisk(3) - atRisk(2) - atRisk(1), 'no alert open'),
      opts.canReadAlerts ? card('open critical alerts', open('critical'), null, 'kpi-critical') : null,
      card('silent trackers', o.silentTrackers.total, 'in transit, 3 reports missed'),
      card('silent sites', o.silentSites.total, 'no attestation within their limit'),
    );
    // Open alerts by severity and age: a table, so a screen reader reads it by row and column.
    const ages = Object.keys(AGE_LABEL);
    els.alertAges.hidden = !opts.canReadAlerts;
    els.alertAges.replaceChildren(
      h('caption', {}, 'Alerts not yet resolved, by age since opened'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Severity'),
          ages.map((a) => h('th', { scope: 'col' }, AGE_LABEL[a])),
          h('th', { scope: 'col' }, 'of them acknowledged'),
        ),
      ),
      h(
        'tbody',
        {},
        ['critical', 'warning', 'info'].map((sev) => {
          const rows = o.openAlerts.filter((a) => a.severity === sev);
          const n = (age) => rows.filter((a) => a.age === age).reduce((s, a) => s + a.n, 0);
          const acked = rows.filter((a) => a.status === 'acknowledged').reduce((s, a) => s + a.n, 0);
          return h(
            'tr',
            {},
            h('th', { scope: 'row' }, h('span', { class: `badge severity-${sev}` }, SEVERITY_LABEL[sev])),
            ages.map((a) => h('td', {}, nf.format(n(a)))),
            h('td', {}, nf.format(acked)),
          );
        }),
      ),
    );
    const silentItem = (label, at, onclick) =>
      h(
        'li',
        {},
        onclick ? h('button', { type: 'button', class: 'link-button', onclick }, label) : label,
        h(
          'span',
          { class: 'muted' },
          at ? ` — last heard ${formatTime(at)} (${formatAgo(at, Date.now())})` : ' — never heard',
        ),
      );
    els.silent.replaceChildren(
      ...o.silentTrackers.items.map((t) =>
        silentItem(`Tracker ${t.deviceId} (shipment ${t.shipmentId})`, t.lastFixAt, () =>
          opts.onOpen(t.shipmentId),
        ),
      ),
      ...o.silentSites.items.map((s) => silentItem(`Site ${s.siteId} (${s.name})`, s.lastAttestedAt)),
    );
    if (els.silent.childElementCount === 0)
      els.silent.append(h('li', { class: 'muted' }, 'Every tracker and site is reporting.'));
    els.events.replaceChildren(
      ...o.latestEvents.map((e) =>
        h(
          'li',
          {},
          h('span', { class: `badge severity-${e.alert.severity}` }, SEVERITY_LABEL[e.alert.severity]),
          ' ',
          h('time', { datetime: e.at }, formatTime(e.at)),
          ` · ${e.actor} ${e.action.replace('_', ' ')} ${e.alert.type}`,
          e.alert.shipmentId
            ? [
                ' on ',
                h(
                  'button',
                  { type: 'button', class: 'link-button', onclick: () => opts.onOpen(e.alert.shipmentId) },
                  e.alert.shipmentId,
                ),
              ]
            : e.alert.siteId
              ? ` at site ${e.alert.siteId}`
              : '',
          e.note ? h('span', { class: 'muted' }, ` — “${e.note}”`) : null,
        ),
      ),
    );
    els.eventsBox.hidden = !opts.canReadAlerts;
  }

  function row(s) {
    const label = `${s.id}${s.reference ? `, ${s.reference}` : ''}`;
    return h(
      'tr',
      { 'data-shipment-id': s.id, class: `risk-${s.risk}` },
      h(
        'th',
        { scope: 'row' },
        h(
          'button',
          {
            type: 'button',
            class: 'link-button',
            'aria-label': `Open the timeline of ${label}`,
            onclick: () => opts.onOpen(s.id),
          },
          s.id,
        ),
        s.reference ? h('span', { class: 'muted cell-sub' }, s.reference) : null,
        s.customer ? h('span', { class: 'muted cell-sub' }, s.customer) : null,
      ),
      h('td', {}, h('span', { class: `badge status-${s.status}` }, STATUS_LABEL[s.status] ?? s.status)),
      h(
        'td',
        {},
        h('span', { class: `badge risk-badge risk-${s.risk}` }, RISK_LABEL[s.risk]),
        s.openAlerts ? h('span', { class: 'muted cell-sub' }, `${s.openAlerts} open`) : null,
      ),
      h(
        'td',
        { class: 'cell-explanation' },
        s.worstAlert ? explainAlert(s.worstAlert) : h('span', { class: 'muted' }, 'No alert open.'),
      ),
      h(
        'td',
        {},
        s.lastPosition
          ? [
              formatTime(s.lastPosition.ts),
              h('span', { class: 'muted cell-sub' }, formatAgo(s.lastPosition.ts, Date.now())),
            ]
          : h('span', { class: 'muted' }, 'no fix yet'),
      ),
      h('td', {}, s.progressPercent === null ? '—' : `${s.progressPercent} %`),
    );
  }

  /** The status line is a live region: it is only rewritten when its words change, so a refresh says nothing. */
  const say = (text) => {
    if (els.status.textContent !== text) els.status.textContent = text;
  };

  /** `quiet`: a background refresh — no "loading" line, and the keyboard focus stays on the same shipment. */
  async function loadPage({ quiet = false } = {}) {
    const mine = ++seq;
    const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    for (const [k, v] of Object.entries(filters)) if (v) params.set(k, v);
    if (!quiet) say('Loading shipments…');
    try {
      const page = await opts.api.get(`/v1/overview/shipments?${params}`);
      if (mine !== seq) return; // a newer search was started meanwhile
      const focused = els.rows.contains(document.activeElement)
        ? document.activeElement.closest('tr')?.dataset.shipmentId
        : undefined;
      els.rows.replaceChildren(...page.items.map(row));
      if (focused) els.rows.querySelector(`tr[data-shipment-id="${CSS.escape(focused)}"] button`)?.focus();
      const to = offset + page.items.length;
      say(
        page.total === 0
          ? 'No shipment matches.'
          : `Shipments ${nf.format(offset + 1)}–${nf.format(to)} of ${nf.format(page.total)}, most at risk first.`,
      );
      els.prev.disabled = offset === 0;
      els.next.disabled = to >= page.total;
    } catch (e) {
      if (mine === seq) say(`Shipments could not be loaded: ${e.message}`);
    }
  }

  async function loadCounts() {
    try {
      renderCounts(await opts.api.get('/v1/overview'));
    } catch (e) {
      els.kpis.replaceChildren(h('p', { class: 'notice' }, `The overview could not be loaded: ${e.message}`));
    }
  }

  els.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(els.form);
    filters = Object.fromEntries([...data.entries()].map(([k, v]) => [k, String(v).trim()]));
    if (filters.country) filters.country = filters.country.toUpperCase();
    offset = 0;
    loadPage();
  });
  els.form.addEventListener('reset', () => {
    filters = {};
    offset = 0;
    setTimeout(loadPage, 0);
  });
  els.prev.addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    loadPage();
  });
  els.next.addEventListener('click', () => {
    offset += PAGE;
    loadPage();
  });

  return {
    refresh({ quiet = false } = {}) {
      return Promise.all([loadCounts(), loadPage({ quiet })]);
    },
  };
}
