// Data-center sites: the list (hidden when the server has no site registry yet, or the role may not read it) and
// one site's registered radius, feasible region and attested chips.
import { h } from './dom.js';
import { formatAgo, formatTime, regionGeometry } from './format.js';

/** Chip serials however the site view spells them (a list of strings, or of objects with a serial). */
export function chipsOf(site) {
  const raw = [site.chips, site.attestedChips, site.lastAttestation?.chips].find(Array.isArray) ?? [];
  return raw.map((c) => (typeof c === 'string' ? c : (c.serial ?? c.id ?? JSON.stringify(c))));
}

function regionText(site) {
  const r = site.feasibleRegion;
  if (!r) return 'no attestation with round-trip times yet';
  const parts = [regionGeometry(site) ? 'shown on the map (dashed green)' : (r.kind ?? 'none')];
  if (r.note) parts.push(r.note);
  if (Array.isArray(r.disks)) parts.push(`from ${r.disks.length} landmark round trips`);
  return parts.join('; ');
}

export function renderSiteList(list, sites, onSelect) {
  list.replaceChildren(
    ...sites.map((s) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', class: 'site-item', 'data-site-id': s.id, onclick: () => onSelect(s.id) },
          h('span', { class: 'shipment-id' }, s.id),
          s.name ? h('span', { class: 'shipment-ref' }, s.name) : null,
          s.status ? h('span', { class: 'badge' }, s.status) : null,
        ),
      ),
    ),
  );
}

export function renderSiteDetail(panel, site) {
  const chips = chipsOf(site);
  const last = site.lastAttestation;
  const attestedAt = last?.at ?? last?.receivedAt ?? site.lastAttestedAt;
  const touched = site.feasibleRegion?.restrictedZonesTouched ?? [];
  panel.replaceChildren(
    h('h3', { tabindex: '-1', id: 'site-heading' }, `Site ${site.id}${site.name ? ` · ${site.name}` : ''}`),
    h(
      'dl',
      { class: 'facts' },
      site.status ? [h('dt', {}, 'Status'), h('dd', {}, site.status)] : null,
      h('dt', {}, 'Registered at'),
      h('dd', {}, typeof site.lat === 'number' ? `${site.lat.toFixed(3)}, ${site.lon.toFixed(3)}` : '—'),
      h('dt', {}, 'Radius'),
      h('dd', {}, typeof site.radiusKm === 'number' ? `${site.radiusKm} km` : '—'),
      last?.location
        ? [
            h('dt', {}, 'Claimed location'),
            h('dd', {}, `${last.location.lat.toFixed(3)}, ${last.location.lon.toFixed(3)}`),
          ]
        : null,
      h('dt', {}, 'Feasible region'),
      h('dd', {}, regionText(site)),
      touched.length
        ? [
            h('dt', {}, 'Region touches'),
            h(
              'dd',
              { class: 'severity-text-critical' },
              touched.map((z) => `${z.name ?? z.id} (${z.tier})`).join(', '),
            ),
          ]
        : null,
      h('dt', {}, 'Last attestation'),
      h('dd', {}, attestedAt ? `${formatTime(attestedAt)} (${formatAgo(attestedAt, Date.now())})` : '—'),
      h('dt', {}, `Chips attested (${chips.length})`),
      h(
        'dd',
        {},
        chips.length
          ? h(
              'ul',
              { class: 'chips' },
              chips.map((c) => h('li', {}, c)),
            )
          : 'none',
      ),
    ),
  );
}
