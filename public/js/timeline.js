// A shipment's timeline: fixes, gaps, stops, alerts and their lifecycle actions on one time axis beside a map that
// keeps the planned route and corridor in view, with a time slider replaying the track. Alerts read in plain words,
// can be acknowledged (with a note) and resolved (a note required) here, and the incident report is one button away.
import * as L from '/dashboard/vendor/leaflet/leaflet-src.esm.js';
import { $, announce, h } from './dom.js';
import { explainAlert, typeWords } from './explain.js';
import {
  formatLatLon,
  formatTime,
  SEVERITY_LABEL,
  STATUS_LABEL,
  unwrapLines,
  unwrapLongitudes,
} from './format.js';
import { createMap } from './map.js';

const ACTION_WORDS = {
  opened: 'opened',
  acknowledged: 'acknowledged',
  resolved: 'resolved',
  auto_resolved: 'resolved automatically',
};

/** The timeline's events from the track and the alerts (each with its audit trail), in time order. */
export function timelineEvents(track, alerts, shipment) {
  const events = [];
  const times = track.times;
  if (times.length > 0) events.push({ at: times[0], kind: 'fix', text: 'First signed fix' });
  const gapMs = Math.max(3 * (shipment.reportIntervalS ?? 300) * 1000, 3_600_000);
  for (let i = 1; i < times.length; i++) {
    const dt = Date.parse(times[i]) - Date.parse(times[i - 1]);
    if (dt > gapMs)
      events.push({
        at: times[i - 1],
        kind: 'gap',
        text: `No telemetry for ${(dt / 3_600_000).toFixed(1)} h`,
      });
  }
  for (const a of alerts) {
    if (a.type === 'UNPLANNED_STOP' && a.details?.since) {
      events.push({
        at: a.details.since,
        kind: 'stop',
        text: `Stopped (${a.details.stoppedMinutes ?? '?'} min)`,
        alert: a,
      });
    }
    const audit = a.audit?.length
      ? a.audit
      : [{ at: a.openedAt, actor: 'chipwatch', action: 'opened', note: null }];
    for (const e of audit) {
      // An alert is placed at its evidence's device time, its lifecycle actions at when they were taken.
      const at = e.action === 'opened' ? (a.firstEvidenceAt ?? e.at) : e.at;
      events.push({
        at,
        kind: e.action === 'opened' ? 'alert' : 'action',
        text: `${SEVERITY_LABEL[a.severity] ?? a.severity} alert ${typeWords(a.type)} ${ACTION_WORDS[e.action] ?? e.action}`,
        actor: e.actor,
        note: e.note,
        alert: a,
      });
    }
  }
  if (times.length > 1) events.push({ at: times.at(-1), kind: 'fix', text: 'Latest signed fix' });
  if (shipment.arrivedAt)
    events.push({ at: shipment.arrivedAt, kind: 'fix', text: 'Arrived at the destination' });
  return events.sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}

/** The index of the last fix at or before `at` (0 if none). */
function indexAt(times, at) {
  const t = Date.parse(at);
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (Date.parse(times[mid]) <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** opts: { api, caps, loadBase(map), onAlertChanged() } */
export function createTimeline(opts) {
  const view = $('#timeline-view');
  let map;
  let replay;
  let current;

  function ensureMap() {
    if (map) return;
    map = createMap($('#timeline-map'));
    opts.loadBase(map);
    replay = {
      line: L.polyline([], {
        pane: 'track',
        interactive: false,
        className: 'cw-replay-track',
        color: '#6b21a8',
        weight: 4,
      }),
      dot: L.circleMarker([0, 0], {
        pane: 'points',
        className: 'cw-replay-position',
        radius: 9,
        color: '#fff',
        weight: 3,
        fillColor: '#6b21a8',
        fillOpacity: 1,
      }),
    };
  }

  function setMoment(i, { announceIt = false } = {}) {
    const { coords, times } = current.track;
    if (times.length === 0) return;
    const k = Math.max(0, Math.min(i, times.length - 1));
    const slider = $('#replay-slider');
    slider.value = String(k);
    const label = `${formatTime(times[k])}, fix ${k + 1} of ${times.length}`;
    slider.setAttribute('aria-valuetext', label);
    replay.line.setLatLngs(coords.slice(0, k + 1).map(([lon, lat]) => [lat, lon]));
    replay.dot.setLatLng([coords[k][1], coords[k][0]]);
    $('#replay-output').textContent = `${label} — ${formatLatLon({ lat: coords[k][1], lon: coords[k][0] })}`;
    const t = Date.parse(times[k]);
    for (const li of $('#timeline-events').children)
      li.classList.toggle('is-past', Date.parse(li.dataset.at) <= t);
    if (announceIt) announce(`Replay at ${label}.`);
  }

  function eventItem(e) {
    return h(
      'li',
      {
        class: `timeline-event kind-${e.kind}${e.alert ? ` severity-${e.alert.severity}` : ''}`,
        'data-at': e.at,
        'data-kind': e.kind,
        'data-alert-id': e.alert?.id,
      },
      h('time', { datetime: e.at }, formatTime(e.at)),
      h(
        'span',
        { class: 'event-text' },
        e.text,
        e.actor && e.kind === 'action' ? ` by ${e.actor}` : '',
        e.note ? h('span', { class: 'muted' }, ` — “${e.note}”`) : null,
      ),
      current.track.times.length > 0
        ? h(
            'button',
            {
              type: 'button',
              class: 'link-button',
              'aria-label': `Replay to ${formatTime(e.at)}: ${e.text}`,
              onclick: () => setMoment(indexAt(current.track.times, e.at), { announceIt: true }),
            },
            'Replay to here',
          )
        : null,
    );
  }

  function alertCard(a) {
    const noteId = `tl-note-${a.id}`;
    const err = h('p', { class: 'field-error', role: 'alert', id: `${noteId}-error` });
    const note = h('textarea', {
      id: noteId,
      rows: 2,
      maxlength: 2000,
      'aria-describedby': `${noteId}-error`,
    });
    const act = async (kind) => {
      const text = note.value.trim();
      if (kind === 'resolve' && !text) {
        err.textContent = 'A note is required: say why this alert is resolved.';
        note.setAttribute('aria-invalid', 'true');
        note.focus();
        return;
      }
      err.textContent = '';
      try {
        await opts.api.post(
          `/v1/alerts/${encodeURIComponent(a.id)}/${kind === 'ack' ? 'ack' : 'resolve'}`,
          text ? { note: text } : {},
        );
        announce(`${kind === 'ack' ? 'Acknowledged' : 'Resolved'} ${a.type} (alert ${a.id}).`);
        opts.onAlertChanged?.();
        await open(current.shipment.id, { keepMoment: true });
        document.querySelector(`#timeline-alerts [data-alert-id="${CSS.escape(a.id)}"] h4`)?.focus();
      } catch (e) {
        err.textContent = e.message;
      }
    };
    const canAct = opts.caps().actOnAlerts && a.status !== 'resolved';
    return h(
      'li',
      {
        class: `tl-alert alert-item severity-${a.severity} status-${a.status}`,
        'data-alert-id': a.id,
        'data-type': a.type,
        'data-status': a.status,
      },
      h(
        'div',
        { class: 'alert-summary' },
        h('span', { class: `badge severity-${a.severity}` }, SEVERITY_LABEL[a.severity] ?? a.severity),
        h('span', { class: `badge status-${a.status}` }, a.status),
        h('h4', { class: 'alert-type', tabindex: '-1' }, `${typeWords(a.type)} (alert ${a.id})`),
      ),
      h('p', { class: 'alert-explanation' }, explainAlert(a)),
      h(
        'p',
        { class: 'muted alert-meta' },
        `Evidence ${formatTime(a.firstEvidenceAt ?? a.openedAt)}${a.count > 1 ? `, seen ${a.count}×` : ''}`,
      ),
      h(
        'div',
        { class: 'alert-actions' },
        current.track.times.length > 0
          ? h(
              'button',
              {
                type: 'button',
                class: 'btn',
                onclick: () =>
                  setMoment(indexAt(current.track.times, a.firstEvidenceAt ?? a.openedAt), {
                    announceIt: true,
                  }),
                'aria-label': `Replay to ${a.type} alert ${a.id}`,
              },
              'Replay to the alert',
            )
          : null,
      ),
      canAct
        ? h(
            'div',
            { class: 'tl-act' },
            h('label', { for: noteId }, 'Note (required to resolve)'),
            note,
            err,
            h(
              'div',
              { class: 'form-row' },
              a.status === 'open'
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'btn',
                      onclick: () => act('ack'),
                      'aria-label': `Acknowledge ${a.type} alert ${a.id}`,
                    },
                    'Acknowledge',
                  )
                : null,
              h(
                'button',
                {
                  type: 'button',
                  class: 'btn btn-primary',
                  onclick: () => act('resolve'),
                  'aria-label': `Resolve ${a.type} alert ${a.id}`,
                },
                'Resolve',
              ),
            ),
          )
        : null,
      a.audit?.length
        ? h(
            'ol',
            { class: 'audit-trail' },
            a.audit.map((e) =>
              h(
                'li',
                {},
                `${formatTime(e.at)} · ${e.actor} ${ACTION_WORDS[e.action] ?? e.action}`,
                e.note ? ` — “${e.note}”` : '',
              ),
            ),
          )
        : null,
      h(
        'details',
        { class: 'alert-details' },
        h('summary', {}, 'Raw details'),
        h('pre', {}, JSON.stringify(a.details, null, 2)),
      ),
    );
  }

  async function download(format) {
    const status = $('#report-status');
    const id = current.shipment.id;
    status.textContent = format === 'pdf' ? 'Printing the report to PDF…' : 'Preparing the incident report…';
    try {
      const { name, bytes } = await opts.api.download(
        `/v1/shipments/${encodeURIComponent(id)}/report${format === 'pdf' ? '?format=pdf' : ''}`,
        `incident-report-${id}.${format}`,
      );
      status.textContent = `Saved ${name} (${Math.max(1, Math.round(bytes / 1024))} KB).`;
    } catch (e) {
      status.textContent = e.status === 501 ? e.message : `The report could not be made: ${e.message}`;
    }
  }

  async function open(id, { keepMoment = false } = {}) {
    ensureMap();
    const previous = keepMoment ? Number($('#replay-slider').value) : null;
    $('#timeline-heading').textContent = `Shipment ${id}`;
    $('#timeline-status').textContent = 'Loading the timeline…';
    const caps = opts.caps();
    const [shipment, track, list] = await Promise.all([
      opts.api.get(`/v1/shipments/${encodeURIComponent(id)}`),
      opts.api.get(`/v1/shipments/${encodeURIComponent(id)}/track`),
      caps.readAlerts
        ? opts.api.get(`/v1/alerts?shipmentId=${encodeURIComponent(id)}&limit=200`)
        : { items: [] },
    ]);
    const alerts = await Promise.all(
      list.items
        .slice(0, 50)
        .map((a) => opts.api.get(`/v1/alerts/${encodeURIComponent(a.id)}`).catch(() => a)),
    );
    const planned = track.features.find((f) => f.properties?.kind === 'plannedRoute')?.geometry;
    const refLon = planned ? unwrapLines(planned)[0]?.[0]?.[0] : undefined;
    const actual = track.features.find((f) => f.properties?.kind === 'actualTrack');
    current = {
      shipment,
      alerts,
      track: {
        coords: actual?.geometry ? unwrapLongitudes(actual.geometry.coordinates, refLon) : [],
        times: actual?.properties?.times ?? [],
      },
    };
    map.showTrack(
      { ...track, features: track.features.filter((f) => f.properties?.kind !== 'actualTrack') },
      { fit: !keepMoment, onAlert: () => {} },
    );
    replay.line.addTo(map.leaflet);
    if (current.track.times.length > 0) replay.dot.addTo(map.leaflet);
    else replay.dot.remove();
    $('#timeline-facts').textContent =
      `${shipment.reference ?? 'no reference'} · ${STATUS_LABEL[shipment.status] ?? shipment.status} · ${shipment.mode} · tracker ${shipment.deviceId} · ${shipment.origin?.name ?? 'origin'} → ${shipment.destination?.name ?? shipment.destination?.siteId ?? 'destination'} · corridor ${shipment.corridorKm} km`;
    const slider = $('#replay-slider');
    slider.max = String(Math.max(0, current.track.times.length - 1));
    slider.disabled = current.track.times.length === 0;
    $('#timeline-events').replaceChildren(...timelineEvents(current.track, alerts, shipment).map(eventItem));
    $('#timeline-alerts').replaceChildren(
      ...(alerts.length
        ? alerts.map(alertCard)
        : [
            h(
              'li',
              { class: 'muted' },
              caps.readAlerts ? 'No alert for this shipment.' : 'Alerts are for compliance staff.',
            ),
          ]),
    );
    $('#report-actions').hidden = !caps.evidence;
    setMoment(previous ?? current.track.times.length - 1);
    $('#timeline-status').textContent = `${current.track.times.length} fixes, ${alerts.length} alert(s).`;
    map.invalidate();
  }

  let playing;
  $('#replay-slider').addEventListener('input', (e) => setMoment(Number(e.target.value)));
  $('#replay-play').addEventListener('click', (e) => {
    if (playing) {
      clearInterval(playing);
      playing = undefined;
      e.target.textContent = 'Play';
      return;
    }
    const n = current?.track.times.length ?? 0;
    if (n < 2) return;
    const step = Math.max(1, Math.round(n / 120));
    let i = Number($('#replay-slider').value) >= n - 1 ? 0 : Number($('#replay-slider').value);
    e.target.textContent = 'Pause';
    playing = setInterval(() => {
      i = Math.min(n - 1, i + step);
      setMoment(i);
      if (i >= n - 1) $('#replay-play').click();
    }, 100);
  });
  $('#report-html').addEventListener('click', () => download('html'));
  $('#report-pdf').addEventListener('click', () => download('pdf'));

  return {
    open,
    hide() {
      if (playing) $('#replay-play').click();
    },
    get view() {
      return view;
    },
  };
}
