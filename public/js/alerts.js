// The alert feed: newest first, coloured by severity (and labelled: colour is never the only cue), acknowledge and
// resolve-with-a-note for compliance users, evidence shown on the map. Items are updated in place so a live update
// never loses a half-typed note or the keyboard focus.
import { h } from './dom.js';
import { explainAlert } from './explain.js';
import { formatAgo, formatTime, formatValue, SEVERITY_LABEL } from './format.js';

const STATUS_TEXT = { open: 'open', acknowledged: 'acknowledged', resolved: 'resolved' };

/**
 * list: the <ol>; opts: { canAct, onShow(alert), onAck(alert) → Promise, onResolve(alert, note) → Promise,
 * onNew(alert) }.
 */
export function createAlertFeed(list, empty, opts) {
  const alerts = new Map();
  const items = new Map();
  let filter = 'active';

  const visible = (a) =>
    filter === 'all' || (filter === 'active' ? a.status !== 'resolved' : a.status === filter);

  function summary(a) {
    const subject = a.shipmentId
      ? `shipment ${a.shipmentId}`
      : a.siteId
        ? `site ${a.siteId}`
        : `device ${a.deviceId}`;
    return h(
      'div',
      { class: 'alert-summary' },
      h('span', { class: `badge severity-${a.severity}` }, SEVERITY_LABEL[a.severity] ?? a.severity),
      h('span', { class: `badge status-${a.status}` }, STATUS_TEXT[a.status] ?? a.status),
      h('h3', { class: 'alert-type' }, a.type),
      h(
        'p',
        { class: 'alert-meta' },
        `${subject} · `,
        h(
          'time',
          { datetime: a.lastSeenAt, title: formatTime(a.lastSeenAt) },
          formatAgo(a.lastSeenAt, Date.now()),
        ),
        a.count > 1 ? ` · seen ${a.count}×` : '',
      ),
      h('p', { class: 'alert-explanation' }, explainAlert(a)),
    );
  }

  function detailList(a) {
    const rows = Object.entries(a.details ?? {}).map(([k, v]) => [
      h('dt', {}, k),
      h('dd', {}, formatValue(v)),
    ]);
    return h(
      'details',
      { class: 'alert-details' },
      h('summary', { 'data-action': 'details' }, 'Raw details'),
      h(
        'dl',
        {},
        h('dt', {}, 'opened'),
        h('dd', {}, formatTime(a.openedAt)),
        a.resolution ? [h('dt', {}, 'resolution'), h('dd', {}, `${a.resolution} (${a.resolvedBy})`)] : null,
        rows,
      ),
    );
  }

  function actions(a, li) {
    const box = h(
      'div',
      { class: 'alert-actions' },
      h(
        'button',
        {
          type: 'button',
          class: 'btn',
          'data-action': 'show',
          onclick: () => opts.onShow(a.id),
          'aria-label': `Show ${a.type} alert ${a.id} on the map`,
        },
        'Show on map',
      ),
    );
    if (opts.canAct && a.status === 'open') {
      box.append(
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-primary',
            'data-action': 'ack',
            'aria-label': `Acknowledge ${a.type} alert ${a.id}`,
            onclick: async (e) => {
              e.currentTarget.disabled = true;
              await opts.onAck(alerts.get(a.id));
              li.focus();
            },
          },
          'Acknowledge',
        ),
      );
    }
    if (opts.canAct && a.status !== 'resolved') {
      box.append(
        h(
          'button',
          {
            type: 'button',
            class: 'btn',
            'data-action': 'resolve',
            'aria-expanded': 'false',
            'aria-label': `Resolve ${a.type} alert ${a.id}`,
            onclick: (e) => toggleResolve(a.id, li, e.currentTarget),
          },
          'Resolve…',
        ),
      );
    }
    return box;
  }

  function toggleResolve(id, li, button) {
    const existing = li.querySelector('form.resolve-form');
    if (existing) {
      existing.remove();
      button.setAttribute('aria-expanded', 'false');
      return;
    }
    const noteId = `note-${id}`;
    const errId = `note-error-${id}`;
    const textarea = h('textarea', {
      id: noteId,
      name: 'note',
      rows: 2,
      maxlength: 2000,
      required: true,
      'aria-describedby': errId,
    });
    const error = h('p', { id: errId, class: 'field-error', role: 'alert' });
    const form = h(
      'form',
      {
        class: 'resolve-form',
        // The note is checked here, with a message in the page that screen readers announce.
        novalidate: true,
        onsubmit: async (e) => {
          e.preventDefault();
          const note = textarea.value.trim();
          if (!note) {
            error.textContent = 'A note is required: say why this alert is resolved.';
            textarea.setAttribute('aria-invalid', 'true');
            textarea.focus();
            return;
          }
          error.textContent = '';
          try {
            await opts.onResolve(alerts.get(id), note);
          } catch (err) {
            error.textContent = err.message;
          }
        },
      },
      h('label', { for: noteId }, 'Resolution note (required)'),
      textarea,
      error,
      h(
        'div',
        { class: 'form-row' },
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Resolve alert'),
        h(
          'button',
          {
            type: 'button',
            class: 'btn',
            onclick: () => {
              form.remove();
              button.setAttribute('aria-expanded', 'false');
              button.focus();
            },
          },
          'Cancel',
        ),
      ),
    );
    li.append(form);
    button.setAttribute('aria-expanded', 'true');
    textarea.focus();
  }

  /** Builds or refreshes one item; the resolve form, if open, is kept while the alert is not resolved. */
  function renderItem(a) {
    let li = items.get(a.id);
    if (!li) {
      li = h('li', { class: 'alert-item', tabindex: '-1', 'data-alert-id': a.id });
      items.set(a.id, li);
    }
    const form = a.status === 'resolved' ? null : li.querySelector('form.resolve-form');
    const details = li.querySelector('details');
    // Rebuilding the buttons would drop the keyboard focus: note where it was, put it back after.
    const active = document.activeElement;
    const focusKey =
      li.contains(active) && !form?.contains(active)
        ? (active.dataset.action ?? (active === li ? 'item' : ''))
        : null;
    li.className = `alert-item severity-${a.severity} status-${a.status}`;
    li.dataset.type = a.type;
    li.dataset.status = a.status;
    li.setAttribute('aria-label', `${SEVERITY_LABEL[a.severity] ?? a.severity} ${a.type}, ${a.status}`);
    const next = [summary(a), actions(a, li), detailList(a)];
    if (details?.open) next[2].open = true;
    li.replaceChildren(...next, ...(form ? [form] : []));
    if (focusKey !== null) (li.querySelector(`[data-action="${focusKey}"]`) ?? li).focus();
    return li;
  }

  /** Puts the visible items in id order (newest first), moving only what is out of place. */
  function place() {
    const wanted = [...alerts.values()].filter(visible).sort((x, y) => Number(y.id) - Number(x.id));
    const wantedIds = new Set(wanted.map((a) => a.id));
    for (const [id, li] of items) if (!wantedIds.has(id) && li.parentNode) li.remove();
    let cursor = list.firstElementChild;
    for (const a of wanted) {
      const li = items.get(a.id) ?? renderItem(a);
      if (li !== cursor) list.insertBefore(li, cursor);
      else cursor = cursor.nextElementSibling;
    }
    empty.hidden = wanted.length > 0;
  }

  const changed = (a, b) =>
    !b || a.status !== b.status || a.count !== b.count || a.lastSeenAt !== b.lastSeenAt;

  return {
    /**
     * Merges alerts from a poll, the stream or an action; `live` announces the ones not seen before, `force`
     * rebuilds an item even if unchanged (re-enables its buttons after a failed action).
     */
    upsert(list, { live = true, force = false } = {}) {
      for (const a of list) {
        const before = alerts.get(a.id);
        alerts.set(a.id, a);
        if (force || changed(a, before)) renderItem(a);
        if (!before && live) opts.onNew(a);
      }
      place();
    },
    get(id) {
      return alerts.get(String(id));
    },
    setFilter(f) {
      filter = f;
      place();
    },
    forShipment(shipmentId) {
      return [...alerts.values()].filter((a) => a.shipmentId === shipmentId);
    },
    clear() {
      alerts.clear();
      items.clear();
      list.replaceChildren();
    },
  };
}
