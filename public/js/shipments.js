// The shipment list (status and progress, one button per shipment) and the selected shipment's panel.
import { h } from './dom.js';
import { formatAgo, formatLatLon, formatTime, SEVERITY_LABEL, STATUS_LABEL } from './format.js';

function progressOf(s) {
  const pct = s.progress?.percent;
  return typeof pct === 'number' ? pct : null;
}

/** Renders the list; keeps keyboard focus on the same shipment across refreshes. */
export function renderShipmentList(list, empty, shipments, selectedId, onSelect) {
  const focusedId = list.contains(document.activeElement)
    ? document.activeElement.dataset.shipmentId
    : undefined;
  list.replaceChildren(
    ...shipments.map((s) => {
      const pct = progressOf(s);
      const label = `${s.id}${s.reference ? `, ${s.reference}` : ''}: ${STATUS_LABEL[s.status] ?? s.status}${
        pct === null ? '' : `, ${pct} % of the route`
      }`;
      return h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'shipment-item',
            'aria-pressed': String(s.id === selectedId),
            'aria-label': label,
            'data-shipment-id': s.id,
            onclick: () => onSelect(s.id),
          },
          h('span', { class: 'shipment-id' }, s.id),
          h('span', { class: `badge status-${s.status}` }, STATUS_LABEL[s.status] ?? s.status),
          s.reference ? h('span', { class: 'shipment-ref' }, s.reference) : null,
          h(
            'span',
            { class: 'shipment-progress' },
            h('progress', { max: 100, value: pct ?? 0, 'aria-hidden': 'true' }),
            h('span', { class: 'progress-text' }, pct === null ? 'no fix yet' : `${pct} %`),
          ),
        ),
      );
    }),
  );
  empty.hidden = shipments.length > 0;
  if (focusedId) list.querySelector(`[data-shipment-id="${CSS.escape(focusedId)}"]`)?.focus();
}

const place = (p) => (p ? `${p.name ?? (p.siteId ? `site ${p.siteId}` : '')} (${formatLatLon(p)})` : '—');

/** The detail panel of one shipment (GET /v1/shipments/{id}). */
export function renderShipmentDetail(
  panel,
  s,
  { canExport, onDownload, onReport, onShowAlert, onZoom, onTimeline },
) {
  const last = s.lastPosition;
  const pct = progressOf(s);
  const status = h('p', { class: 'download-status', role: 'status' });
  panel.replaceChildren(
    h('h2', { id: 'detail-heading', tabindex: '-1' }, `Shipment ${s.id}`),
    h(
      'dl',
      { class: 'facts' },
      s.reference ? [h('dt', {}, 'Reference'), h('dd', {}, s.reference)] : null,
      h('dt', {}, 'Status'),
      h('dd', {}, h('span', { class: `badge status-${s.status}` }, STATUS_LABEL[s.status] ?? s.status)),
      h('dt', {}, 'Mode · tracker'),
      h('dd', {}, `${s.mode} · ${s.deviceId}`),
      h('dt', {}, 'From'),
      h('dd', {}, place(s.origin)),
      h('dt', {}, 'To'),
      h('dd', {}, 'lat' in (s.destination ?? {}) ? place(s.destination) : `site ${s.destination?.siteId}`),
      h('dt', {}, 'Progress'),
      h(
        'dd',
        {},
        pct === null ? 'no fix yet' : `${s.progress.km} of ${s.routeLengthKm} km (${pct} %)`,
        h('progress', { max: 100, value: pct ?? 0, 'aria-label': 'progress along the planned route' }),
      ),
      h('dt', {}, 'Last position'),
      h(
        'dd',
        {},
        last
          ? `${formatLatLon(last)}, ${formatTime(last.ts)} (${formatAgo(last.ts, Date.now())})`
          : 'none yet',
      ),
      h('dt', {}, 'Corridor'),
      h('dd', {}, `${s.corridorKm} km either side of the route`),
    ),
    h('h3', {}, `Open alerts (${s.openAlerts?.length ?? 0})`),
    s.openAlerts?.length
      ? h(
          'ul',
          { class: 'open-alerts' },
          s.openAlerts.map((a) =>
            h(
              'li',
              {},
              h(
                'button',
                {
                  type: 'button',
                  class: `link-button severity-text-${a.severity}`,
                  onclick: () => onShowAlert(a.id),
                },
                `${SEVERITY_LABEL[a.severity] ?? a.severity}: ${a.type} (${a.status})`,
              ),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'None.'),
    h(
      'div',
      { class: 'form-row' },
      h('button', { type: 'button', class: 'btn', onclick: onZoom }, 'Zoom to shipment'),
      onTimeline
        ? h('button', { type: 'button', class: 'btn', onclick: onTimeline }, 'Timeline and replay')
        : null,
      canExport && onReport
        ? h(
            'button',
            { type: 'button', class: 'btn', onclick: () => onReport(status) },
            'Download incident report',
          )
        : null,
      canExport
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-primary',
              'data-action': 'evidence',
              onclick: () => onDownload(status),
            },
            'Download evidence bundle',
          )
        : null,
    ),
    status,
  );
}
