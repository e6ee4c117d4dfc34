// DOM helpers: elements built from data with textContent only (no innerHTML: shipment references and alert
// details are user-supplied text), and a screen-reader announcer.

/** h('button', { class: 'x', onclick: fn, 'aria-label': '…' }, 'text', child…) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function $(selector) {
  const el = document.querySelector(selector);
  if (!el) throw new Error(`dashboard markup lacks ${selector}`);
  return el;
}

/**
 * Says `text` to screen readers through an aria-live region. The region is emptied first so that the same text
 * twice is announced twice.
 */
export function announce(text, { urgent = false } = {}) {
  const region = $(urgent ? '#announce-urgent' : '#announce-polite');
  region.textContent = '';
  setTimeout(() => {
    region.textContent = text;
  }, 50);
}
